//! `hookrelay listen` end to end: pick the relay (embedded by default) and the channel,
//! then run the transport, the event processor and the renderer, joined by bounded
//! channels, until Ctrl-C, a closed stdout or a fatal error.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::config::{ListenConfig, RelayChoice};
use crate::deliver::{ACK_QUEUE, EVENT_QUEUE, Processor};
use crate::embedded::RelayHandle;
use crate::forward::Forwarder;
use crate::http::{HttpClient, install_crypto_provider};
use crate::relay_api::RelayApi;
use crate::render::Renderer;
use crate::state::CursorFile;
use crate::tunnel::Tunnel;
use crate::ui::{Ui, UiEvent};
use crate::watermark::Watermark;

/// Runs `listen` until `cancel` fires (Ok), stdout is closed (Ok) or something fatal
/// happens (Err: bad token, unknown channel, port taken, unwritable state...).
pub async fn listen(
    config: ListenConfig,
    cancel: CancellationToken,
    out: Renderer,
) -> anyhow::Result<()> {
    install_crypto_provider();
    let (ui, ui_events) = Ui::channel();
    let on_closed = cancel.clone();
    let renderer = tokio::task::spawn_blocking(move || out.run_blocking(ui_events, on_closed));
    let result = run(config, cancel, ui).await;
    // Every `Ui` sender is gone now, so the renderer drains what is left and returns.
    if let Err(err) = renderer.await {
        tracing::warn!("the renderer panicked: {err}");
    }
    result
}

async fn run(config: ListenConfig, cancel: CancellationToken, ui: Ui) -> anyhow::Result<()> {
    let client = crate::http::client();
    let session = cancel.child_token();
    let relay = match &config.relay {
        RelayChoice::Remote(url) => RelayHandle::remote(url.clone()),
        RelayChoice::Embedded { port } => {
            let (relay, note) =
                RelayHandle::embedded(*port, &config.dirs, &client, session.clone()).await?;
            if let Some(note) = note {
                ui.send(UiEvent::Notice(note)).await;
            }
            relay
        }
    };
    let result = stream(&config, &relay, client, ui, session).await;
    let stopped = relay.stop().await;
    result.and(stopped)
}

async fn stream(
    config: &ListenConfig,
    relay: &RelayHandle,
    client: HttpClient,
    ui: Ui,
    session: CancellationToken,
) -> anyhow::Result<()> {
    let api = RelayApi::new(client.clone(), relay.url.clone());
    let given = config.channel.clone();
    let resolved =
        crate::channel::resolve(&api, &relay.url, given, &config.dirs, &ui, &session).await?;
    let Some(channel) = resolved else { return Ok(()) };
    ui.send(UiEvent::Ready {
        channel: channel.channel.clone(),
        ingest_url: channel.ingest_url.clone(),
        forward_to: config.forward_to.to_string(),
        relay: relay.description.clone(),
    })
    .await;

    let cursor_file = CursorFile::new(&config.dirs, &relay.url, &channel.channel);
    let cursor = cursor_file.load()?;
    let resume_after = Arc::new(AtomicU64::new(cursor));
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (acks_tx, acks_rx) = mpsc::channel(ACK_QUEUE);
    let tunnel = Tunnel {
        relay: relay.url.clone(),
        channel: channel.channel,
        token: channel.token,
        resume_after: resume_after.clone(),
        events: events_tx,
        acks: acks_rx,
        ui: ui.clone(),
    };
    let forwarder =
        Forwarder::new(client, config.forward_to.clone(), config.headers.clone(), config.timeout);
    let processor = Processor {
        forwarder: Arc::new(forwarder),
        concurrency: config.concurrency.max(1),
        cursor_file,
        watermark: Watermark::new(cursor),
        resume_after,
        acks: acks_tx,
        ui,
    };
    // Whichever side stops first (fatal error, cancel) takes the other down with it.
    let span = tracing::info_span!("listen", channel = %tunnel.channel);
    let (tunnel_result, processor_result) = tokio::join!(
        async {
            let result = tunnel.run(session.clone()).await;
            session.cancel();
            result
        }
        .instrument(tracing::info_span!(parent: &span, "tunnel")),
        async {
            let result = processor.run(events_rx, session.clone()).await;
            session.cancel();
            result
        }
        .instrument(tracing::info_span!(parent: &span, "deliver")),
    );
    tunnel_result.and(processor_result)
}
