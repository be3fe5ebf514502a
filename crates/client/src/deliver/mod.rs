//! Everything that sends to the local app: where each event goes (`filter`, `routes`,
//! `dispatch`), the request itself (`outgoing`: URL and headers; `forward`: one attempt and
//! what its answer means, re-signing included), retrying until a final answer (`retry`) or
//! until the inspector says stop (`stop`),
//! checking once that a target can ever answer (`target`),
//! signature checks (`verify`) and which events are done (`watermark`). Never imports
//! `relay`: events arrive here as plain values.

pub(crate) mod dispatch;
pub(crate) mod filter;
pub(crate) mod forward;
pub(crate) mod outgoing;
pub(crate) mod retry;
pub(crate) mod routes;
pub(crate) mod stop;
pub(crate) mod target;
pub(crate) mod verify;
pub(crate) mod watermark;
