//! `hookrelay listen` end to end: pick the relay (embedded by default) and the channel,
//! build a forwarder per target (routes, `--forward-to`), then run the transport, the event
//! processor and the renderer, joined by bounded channels, until Ctrl-C, a closed stdout or
//! a fatal error. Also owns `--ready-file`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::config::{ListenConfig, RelayChoice};
use crate::deliver::dispatch::{Dispatch, FALLBACK_NAME, route_overrides};
use crate::deliver::forward::Forwarder;
use crate::deliver::watermark::Watermark;
use crate::http::{HttpClient, install_crypto_provider};
use crate::local::ready_file::ReadyFile;
use crate::local::state::{CursorFile, LastTarget};
use crate::output::queue::{Ui, UiEvent};
use crate::output::render::Renderer;
use crate::processor::{ACK_QUEUE, EVENT_QUEUE, Processor};
use crate::relay::api::RelayApi;
use crate::relay::embedded::RelayHandle;
use crate::relay::tunnel::Tunnel;

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
    let ready_file = config.ready_file.as_deref().map(ReadyFile::claim).transpose()?;
    if let Some(routes) = config.routes.as_ref().filter(|routes| routes.discovered) {
        let count = routes.routes.len();
        let note = format!(
            "using the routes in ./{} ({count} rule{}; --no-routes ignores it)",
            routes.path.display(),
            if count == 1 { "" } else { "s" }
        );
        ui.send(UiEvent::Notice(note)).await;
    }
    let result = relay_and_stream(&config, cancel, ui, ready_file.as_ref()).await;
    if let Some(file) = &ready_file {
        file.remove();
    }
    result
}

async fn relay_and_stream(
    config: &ListenConfig,
    cancel: CancellationToken,
    ui: Ui,
    ready_file: Option<&ReadyFile>,
) -> anyhow::Result<()> {
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
    let result = stream(config, &relay, client, ui, session, ready_file).await;
    let stopped = relay.stop().await;
    result.and(stopped)
}

async fn stream(
    config: &ListenConfig,
    relay: &RelayHandle,
    client: HttpClient,
    ui: Ui,
    session: CancellationToken,
    ready_file: Option<&ReadyFile>,
) -> anyhow::Result<()> {
    let api = RelayApi::new(client.clone(), relay.url.clone());
    let given = config.channel.clone();
    let resolved =
        crate::relay::channel_choice::resolve(&api, &relay.url, given, &config.dirs, &ui, &session)
            .await?;
    let Some(channel) = resolved else { return Ok(()) };
    let routes = config.routes.iter().flat_map(|file| &file.routes);
    ui.send(UiEvent::Ready {
        channel: channel.channel.clone(),
        ingest_url: channel.ingest_url.clone(),
        forward_to: config.forward_to.as_ref().map(ToString::to_string),
        routes: routes.map(|route| (route.name.clone(), route.to.to_string())).collect(),
        relay: relay.description.clone(),
    })
    .await;

    if let Some(target) = &config.forward_to {
        LastTarget::new(&config.dirs, &relay.url, &channel.channel).save(target)?;
    }
    let cursor_file = CursorFile::new(&config.dirs, &relay.url, &channel.channel);
    let cursor = cursor_file.load()?;
    let resume_after = Arc::new(AtomicU64::new(cursor));
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (acks_tx, acks_rx) = mpsc::channel(ACK_QUEUE);
    let (connected_tx, connected_rx) = oneshot::channel();
    let tunnel = Tunnel {
        relay: relay.url.clone(),
        channel: channel.channel,
        token: channel.token,
        resume_after: resume_after.clone(),
        events: events_tx,
        acks: acks_rx,
        ui: ui.clone(),
        on_first_connect: Some(connected_tx),
        exit_on_disconnect: config.exit_on_disconnect,
    };
    let ingest_url = channel.ingest_url;
    let processor = Processor {
        dispatch: Arc::new(dispatch(config, &client)),
        verify: config.verify.clone().map(Arc::new),
        show_response: config.show_response,
        concurrency: config.concurrency.max(1),
        cursor_file,
        watermark: Watermark::new(cursor),
        resume_after,
        acks: acks_tx,
        ui: ui.clone(),
    };
    let span = tracing::info_span!("listen", channel = %tunnel.channel);
    let announce = async {
        // Err: the tunnel ended before it ever connected; there is nothing to announce.
        let (Some(file), Ok(())) = (ready_file, connected_rx.await) else { return Ok(()) };
        let written = file.write(&ingest_url);
        match &written {
            Ok(()) => {
                let note = format!("wrote the ingest URL to {}", file.path().display());
                ui.send(UiEvent::Notice(note)).await;
            }
            Err(_) => session.cancel(),
        }
        written
    };
    // Whichever side stops first (fatal error, cancel) takes the other down with it.
    let (tunnel_result, processor_result, announce_result) = tokio::join!(
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
        announce,
    );
    announce_result.and(tunnel_result).and(processor_result)
}

/// A forwarder per route (its target, `-H` plus its headers, named for the log) and one for
/// `--forward-to`, all with the same timeout and re-signing.
fn dispatch(config: &ListenConfig, client: &HttpClient) -> Dispatch {
    let forwarder = |target: &url::Url, headers, name: Option<&str>| {
        Forwarder::new(client.clone(), target.clone(), headers, config.timeout)
            .with_resign(config.resign.clone())
            .with_name(name.map(str::to_owned))
    };
    let routes: Vec<_> = config.routes.iter().flat_map(|file| &file.routes).collect();
    let fallback_name = (!routes.is_empty()).then_some(FALLBACK_NAME);
    let fallback =
        config.forward_to.as_ref().map(|to| forwarder(to, config.headers.clone(), fallback_name));
    let routes = routes
        .into_iter()
        .map(|route| {
            let headers = route_overrides(&config.headers, route);
            (route.clone(), forwarder(&route.to, headers, Some(&route.name)))
        })
        .collect();
    Dispatch::new(config.filter.clone(), routes, fallback)
}
