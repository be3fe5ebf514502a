//! Which part of a channel's history `GET /v1/channels/{channel}/events` lists: the relay
//! answers it, the CLI asks for it. On the wire it is the query string (`after=SEQ&limit=N`
//! or `last=N`, `docs/api.md`); this is its typed form for both sides.

/// Most summaries one history request returns (`limit` and `last` above it are refused).
pub const MAX_PAGE: usize = 1000;

/// Which summaries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Events with `seq > after`, oldest first, at most `limit` (the relay caps it).
    After {
        /// Exclusive lower bound.
        after: u64,
        /// Most events returned.
        limit: usize,
    },
    /// The newest `n` events, oldest first.
    Last(usize),
}
