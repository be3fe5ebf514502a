//! `GET /v1/channels/{channel}/events/{id}` streams its JSON: the event's body goes out as
//! base64 a chunk at a time, so a 25 MiB event never becomes a 33 MiB string in memory
//! (and a reader that stops reading is cut off by the write timeout, freeing the rest).

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hookrelay_proto::EventDetail;

/// Body bytes encoded per chunk (a multiple of 3, so chunks concatenate into valid base64).
const CHUNK: usize = 3 * 64 * 1024;

/// The JSON answer for `detail`, streamed.
pub(crate) fn response(mut detail: EventDetail) -> Response {
    let body = std::mem::take(&mut detail.event.body);
    let json = serde_json::to_string(&detail).expect("an event always serializes");
    // `"body":""` cannot occur earlier: string values escape their quotes.
    let (head, tail) = match json.split_once("\"body\":\"\"") {
        Some((head, tail)) => (format!("{head}\"body\":\""), format!("\"{tail}")),
        None => (json, String::new()),
    };
    let chunks = (0..body.len().div_ceil(CHUNK)).map(move |index| {
        let end = ((index + 1) * CHUNK).min(body.len());
        Bytes::from(STANDARD.encode(&body[index * CHUNK..end]))
    });
    let parts = std::iter::once(Bytes::from(head))
        .chain(chunks)
        .chain(std::iter::once(Bytes::from(tail)))
        .map(Ok::<_, std::convert::Infallible>);
    let stream = futures_util::stream::iter(parts);
    ([(CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use hookrelay_proto::{DeliveryState, Event};
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn the_streamed_answer_is_exactly_the_json_of_the_event() {
        for size in [0, 1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7] {
            let body: Vec<u8> = (0..size).map(|n| (n % 251) as u8).collect();
            let detail = EventDetail {
                event: Event {
                    id: "evt_1".into(),
                    seq: 1,
                    received_at_ms: 5,
                    method: "POST".into(),
                    path: "/x".into(),
                    query: None,
                    headers: vec![("x-body".into(), "\"body\":\"\"".into())],
                    body: Bytes::from(body),
                },
                state: DeliveryState::Pending,
                deliveries: Vec::new(),
            };
            let expected = serde_json::to_string(&detail).expect("serializes");
            let streamed = response(detail).into_body().collect().await.expect("body").to_bytes();
            assert_eq!(String::from_utf8_lossy(&streamed), expected, "size {size}");
        }
    }
}
