//! Everything that sends to the local app: where each event goes (`filter`, `routes`,
//! `dispatch`), the request itself (`outgoing`: URL and headers; `forward`: one attempt and
//! what its answer means, re-signing included), retrying until a final answer (`retry`),
//! signature checks (`verify`) and which events are done (`watermark`). Never imports
//! `relay`: events arrive here as plain values.

pub mod dispatch;
pub mod filter;
pub mod forward;
pub mod outgoing;
pub(crate) mod retry;
pub mod routes;
pub mod verify;
pub(crate) mod watermark;
