//! The retry loop against a real socket: a stop asked for the event ends it as failed,
//! whether the app is sitting on the request or the loop is waiting to try again.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

/// Upper bound for anything awaited here.
const WAIT: Duration = Duration::from_secs(20);

fn policy() -> RetryPolicy {
    RetryPolicy { max_attempts: 0, wait_while_unreachable: true, replay: false, edited: false }
}

fn forwarder(port: u16) -> Arc<Forwarder> {
    hookrelay_http::install_crypto_provider();
    let target = format!("http://127.0.0.1:{port}/").parse().expect("url");
    let timeout = Duration::from_secs(60);
    Arc::new(Forwarder::new(hookrelay_http::client(), target, vec![], timeout))
}

/// An app that reads each request and answers `answer` (or nothing, when `None`).
async fn app(answer: Option<&'static str>) -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("bound").port();
    let (seen, requests) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while let Ok(1..) = socket.read(&mut buffer).await {
                    let _ = seen.send(()).await;
                    match answer {
                        Some(answer) => {
                            let _ = socket.write_all(answer.as_bytes()).await;
                        }
                        // Sits on it: the request stays in flight.
                        None => std::future::pending::<()>().await,
                    }
                }
            });
        }
    });
    (port, requests)
}

#[tokio::test]
async fn a_stop_ends_a_request_the_app_sits_on_as_failed() {
    let (port, mut requests) = app(None).await;
    let (ui, _events) = Ui::channel();
    let stops = StopRequests::new();
    let event = crate::test_support::event("/x", &[], "{}");
    let delivery =
        tokio::spawn(deliver(forwarder(port), ui, event, policy(), None, Some(stops.clone())));
    tokio::time::timeout(WAIT, requests.recv()).await.expect("the request arrived");
    assert!(stops.request(1));
    let (_, result) = tokio::time::timeout(WAIT, delivery).await.expect("stopped").expect("ok");
    assert_eq!((result.outcome, result.status, result.will_retry), (Outcome::Failed, None, false));
    let error = result.error.unwrap_or_default();
    assert!(error.starts_with("stopped waiting (s in the inspector)"), "{error}");
}

#[tokio::test]
async fn a_stop_between_attempts_keeps_the_last_answer_and_only_that_event_stops() {
    let answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy";
    let (port, _requests) = app(Some(answer)).await;
    let (ui, mut events) = Ui::channel();
    let stops = StopRequests::new();
    assert!(stops.request(1), "asked before the event started: does not count");
    let event = crate::test_support::event("/x", &[], "{}");
    let delivery =
        tokio::spawn(deliver(forwarder(port), ui, event, policy(), None, Some(stops.clone())));
    let retried = async {
        loop {
            match events.recv().await {
                Some(UiEvent::Retrying { line, .. }) if line.attempt == 2 => return,
                Some(_) => {}
                None => panic!("the loop ended"),
            }
        }
    };
    tokio::time::timeout(WAIT, retried).await.expect("retried twice");
    assert!(stops.request(2), "another event's stop");
    tokio::task::yield_now().await;
    assert!(!delivery.is_finished());
    assert!(stops.request(1));
    let (_, result) = tokio::time::timeout(WAIT, delivery).await.expect("stopped").expect("ok");
    assert_eq!(
        (result.outcome, result.status, result.will_retry),
        (Outcome::Failed, Some(503), false)
    );
    assert!(result.attempt >= 2, "{result:?}");
    let error = result.error.unwrap_or_default();
    assert_eq!(error, "stopped waiting (s in the inspector): the app answered 503");
}
