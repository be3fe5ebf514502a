//! A run of a channel's `seq` numbers that a client will not receive, and why: the relay
//! says so on the stream instead of letting the client step over a hole (DESIGN §2.2).

use serde::{Deserialize, Serialize};

/// Events `from_seq..=to_seq` of a channel are gone from the relay's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// First missing `seq`.
    pub from_seq: u64,
    /// Last missing `seq` (inclusive).
    pub to_seq: u64,
    /// Why they are missing.
    pub reason: GapReason,
}

impl Gap {
    /// How many events the gap spans.
    pub fn count(&self) -> u64 {
        self.to_seq.saturating_sub(self.from_seq) + 1
    }
}

/// Why events are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// Age retention (`--retention-age`) removed them before any client finished them:
    /// acknowledged to the provider, never delivered.
    Expired,
    /// A client finished them (delivered, rejected, failed or skipped) and count retention
    /// or the channel's byte quota removed them since; this client never saw them (another
    /// client took them, or an earlier run acknowledged them without saving its cursor).
    Pruned,
    /// Found by the client: `seq` jumped and the relay did not say why.
    Unexplained,
    /// A reason this side does not know.
    #[serde(other)]
    Unknown,
}

impl GapReason {
    /// The reason as it reads in JSON (`expired`, `pruned`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Pruned => "pruned",
            Self::Unexplained => "unexplained",
            Self::Unknown => "unknown",
        }
    }

    /// True when the events never reached any app: data loss the user must hear about.
    pub fn is_loss(self) -> bool {
        !matches!(self, Self::Pruned)
    }
}
