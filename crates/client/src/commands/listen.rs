//! `hookrelay listen` end to end: pick the relay (embedded by default) and the channel,
//! build a forwarder per target (routes, `--forward-to`), then run the transport
//! (`relay::tunnel`), the event processor (`processor`) and the renderer
//! (`output::render`, or with `--tui` on a terminal the inspector, `inspector`), joined by
//! bounded queues, until Ctrl-C, a closed stdout, `q` or a fatal error. Also owns
//! `--ready-file`.

mod config;
mod cursor;
mod inspector;
mod processor;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context as _;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelayChoice;
use crate::deliver::dispatch::{Dispatch, FALLBACK_NAME, route_overrides};
use crate::deliver::forward::Forwarder;
use crate::deliver::retry::RetryPolicy;
use crate::deliver::stop::StopRequests;
use crate::deliver::target::check_target;
use crate::deliver::watermark::Watermark;
use crate::local::paths::Dirs;
use crate::local::ready_file::ReadyFile;
use crate::local::saved_relay::{LastRelay, LoginFile};
use crate::local::state::{CursorFile, LastTarget};
use crate::output::queue::{Ui, UiEvent};
use crate::output::render::Renderer;
use crate::relay::api::{RelayApi, check_relay};
use crate::relay::embedded::RelayHandle;
use crate::relay::tunnel::Tunnel;
pub(crate) use config::{Config, RoutesFile, with_login};
use hookrelay_http::{HttpClient, install_crypto_provider};
use processor::{ACK_QUEUE, EVENT_QUEUE, Processor};

/// Runs `listen` until `env.cancel` fires (success), stdout is closed (success) or
/// something fatal happens (Err: bad token, unknown channel, port taken, unwritable state...).
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    install_crypto_provider();
    let (ui, ui_events) = Ui::channel();
    let on_closed = env.cancel.clone();
    let tui = config.tui && std::io::stdout().is_terminal();
    if config.tui && !tui {
        eprintln!("hookrelay: --tui needs a terminal, and stdout is not one: printing the log");
    }
    let (backend_tx, backend_rx) = oneshot::channel();
    // Cancelled once the pipeline is over, which the inspector cannot tell from its queue:
    // its own actions hold senders of it.
    let finished = CancellationToken::new();
    let renderer = if tui {
        let ends = inspector::Ends { quit: on_closed, finished: finished.clone() };
        tokio::spawn(inspector::run(ui_events, backend_rx, ends, env.offset))
    } else {
        let out = Renderer::terminal(config.json, env.offset);
        tokio::task::spawn_blocking(move || {
            out.run_blocking(ui_events, on_closed);
            Ok(())
        })
    };
    let inspector = tui.then_some(backend_tx);
    let result = listen(config, &env.dirs, env.cancel.clone(), ui, inspector).await;
    finished.cancel();
    // Every `Ui` sender is gone now, so the renderer drains what is left and returns.
    let shown = match renderer.await {
        Ok(shown) => shown,
        Err(err) => {
            tracing::warn!("the renderer panicked: {err}");
            Ok(())
        }
    };
    result.and(shown).map(|()| ExitCode::SUCCESS)
}

/// Where the inspector gets what its actions need, once the channel is known.
type InspectorLink = Option<oneshot::Sender<inspector::Backend>>;

async fn listen(
    mut config: Config,
    dirs: &Dirs,
    cancel: CancellationToken,
    ui: Ui,
    inspector: InspectorLink,
) -> anyhow::Result<()> {
    let login = LoginFile::new(dirs).load()?;
    (config.relay, config.admin_token) =
        with_login(config.relay.take(), config.admin_token.take(), login.as_ref());
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
    let result = match check_targets(&config).await {
        Ok(()) => relay_and_stream(&config, dirs, cancel, ui, ready_file.as_ref(), inspector).await,
        Err(err) => Err(err),
    };
    if let Some(file) = &ready_file {
        file.remove();
    }
    result
}

/// Fails at once when `--forward-to` or a route's `to` can never answer (DESIGN §4).
async fn check_targets(config: &Config) -> anyhow::Result<()> {
    if let Some(target) = &config.forward_to {
        check_target(target, "-f").await?;
    }
    if let Some(file) = &config.routes {
        for route in &file.routes {
            let context = || format!("route '{}' in {}", route.name, file.path.display());
            check_target(&route.to, "to =").await.with_context(context)?;
        }
    }
    Ok(())
}

async fn relay_and_stream(
    config: &Config,
    dirs: &Dirs,
    cancel: CancellationToken,
    ui: Ui,
    ready_file: Option<&ReadyFile>,
    inspector: InspectorLink,
) -> anyhow::Result<()> {
    let client = hookrelay_http::client();
    let session = cancel.child_token();
    let relay = match &config.relay() {
        RelayChoice::Remote(url) => {
            check_relay(url).await?;
            RelayHandle::remote(url.clone())
        }
        RelayChoice::Embedded { port } => {
            let (relay, note) =
                RelayHandle::embedded(*port, dirs, &client, session.clone()).await?;
            if let Some(note) = note {
                ui.send(UiEvent::Notice(note)).await;
            }
            relay
        }
    };
    let result = stream(config, dirs, &relay, client, ui, session, ready_file, inspector).await;
    let stopped = relay.stop().await;
    result.and(stopped)
}

#[allow(clippy::too_many_arguments)] // each is one of the run's parts, passed once
async fn stream(
    config: &Config,
    dirs: &Dirs,
    relay: &RelayHandle,
    client: HttpClient,
    ui: Ui,
    session: CancellationToken,
    ready_file: Option<&ReadyFile>,
    inspector: InspectorLink,
) -> anyhow::Result<()> {
    let api = RelayApi::new(client.clone(), relay.url.clone())
        .with_admin_token(config.admin_token.clone());
    let given = config.channel.clone();
    let resolved =
        crate::relay::channel_choice::resolve(&api, &relay.url, given, dirs, &ui, &session).await?;
    let Some(channel) = resolved else { return Ok(()) };
    let saved = channel.clone();
    let routes = config.routes.iter().flat_map(|file| &file.routes);
    ui.send(UiEvent::Ready {
        channel: channel.channel.clone(),
        ingest_url: channel.ingest_url.clone(),
        forward_to: config.forward_to.as_ref().map(ToString::to_string),
        routes: routes.map(|route| (route.name.clone(), route.to.to_string())).collect(),
        relay: relay.description.clone(),
    })
    .await;

    LastRelay::new(dirs).save(&config.relay())?;
    if let Some(target) = &config.forward_to {
        LastTarget::new(dirs, &relay.url, &channel.channel).save(target)?;
    }
    let cursor_file = CursorFile::new(dirs, &relay.url, &channel.channel);
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
        takeover: relay.takeover(),
        message_limit: crate::relay::tunnel::MAX_MESSAGE_BYTES,
    };
    let ingest_url = channel.ingest_url;
    let dispatch = Arc::new(dispatch(config, &client));
    let stops = StopRequests::new();
    if let Some(link) = inspector {
        // A send error: the inspector is gone, and the run is ending with it.
        let _ = link.send(inspector::Backend {
            api: api.clone(),
            channel: saved.clone(),
            dispatch: dispatch.clone(),
            stops: stops.clone(),
            ui: ui.clone(),
        });
    }
    let processor = Processor {
        dispatch,
        verify: config.verify.clone().map(Arc::new),
        show_response: config.show_response,
        concurrency: config.concurrency.max(1),
        retry: RetryPolicy {
            max_attempts: config.max_attempts,
            wait_while_unreachable: true,
            replay: false,
            edited: false,
        },
        cursor: cursor::LazyCursor::new(cursor_file),
        watermark: Watermark::new(cursor),
        resume_after,
        acks: acks_tx,
        ui: ui.clone(),
        stops,
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
fn dispatch(config: &Config, client: &HttpClient) -> Dispatch {
    let forwarder = |target: &Url, headers, name: Option<&str>| {
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
