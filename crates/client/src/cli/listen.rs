//! The flags of `hookrelay listen` and their checks: what clap cannot validate alone (a
//! routes file, `--verify SCHEME:SECRET`, a `--secret`) is a usage error too, exit 2.

use crate::deliver::retry::DEFAULT_MAX_ATTEMPTS;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use url::Url;

use super::{AdminTokenArg, RelayArgs, ResignArgs, parse_app_url};
use crate::commands::listen::{Config, RoutesFile};
use crate::config::UsageError;
use crate::deliver::filter::Filter;
use crate::deliver::outgoing::HeaderOverride;
use crate::deliver::routes::DEFAULT_ROUTES_FILE;
use crate::deliver::verify::Verify;

/// Flags of `hookrelay listen` (DESIGN §4).
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Your local app: a URL, host:port/path (http assumed) or a port (3000 is
    /// http://localhost:3000); each event's path after /h/{channel} is appended to it.
    /// Optional with a routes file: it then takes the events no rule matches (without it,
    /// those are skipped as "no route matched").
    #[arg(short = 'f', long, value_name = "URL", value_parser = parse_app_url)]
    pub forward_to: Option<Url>,

    /// Which relay and channel.
    #[command(flatten)]
    pub relay: RelayArgs,

    /// The admin token for creating the channel.
    #[command(flatten)]
    pub admin: AdminTokenArg,

    /// Print one JSON object per line on stdout (a `ready` record, then one per delivery, and
    /// a `gap` record for events the relay no longer has).
    #[arg(long, conflicts_with = "tui")]
    pub json: bool,

    /// Full-screen inspector: the same forwarding, drawn as a live event list with a detail
    /// view; replay (r), edit and replay (e), stop a retried event (s), filter (/), copy as
    /// curl (c) or the body (y), ? lists the keys, q quits. Without a terminal on stdout,
    /// the line log is printed instead (with a notice on stderr). Log lines stay off while
    /// it draws unless HOOKRELAY_LOG is set (then send stderr elsewhere: 2>listen.log).
    #[arg(long)]
    pub tui: bool,

    /// Set a header on every forwarded request, replacing any of the same name.
    #[arg(short = 'H', long = "header", value_name = "'Name: value'")]
    pub headers: Vec<HeaderOverride>,

    /// Events forwarded at once. 1 keeps strict order (across all routes); more trades
    /// order for throughput.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// How long to wait for the local app's answer before retrying (e.g. 30s, 2m; a bare
    /// number is seconds; at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::parse_timeout)]
    pub timeout: Duration,

    /// Attempts per event while the app answers 5xx, times out or drops the connection; then
    /// the event is recorded as failed and the next one goes (0: retry forever). A 4xx is
    /// final at once; while nothing listens at the target, listen waits without counting.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,

    /// Routing rules: each event goes to the target of the first [[route]] whose path,
    /// header and JSON-field conditions match, with that route's extra headers. Default:
    /// ./hookrelay.toml when it exists. Checked at start; errors name the line.
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,

    /// Ignore ./hookrelay.toml and forward everything to --forward-to.
    #[arg(long, conflicts_with = "routes")]
    pub no_routes: bool,

    /// Forward only events whose JSON `type` or `event_type` matches one of these
    /// comma-separated patterns ('invoice.paid,customer.*'); the others are acknowledged
    /// as skipped (shown dimmed, and in `events`) and not forwarded.
    #[arg(long, value_name = "'TYPE,PREFIX.*'")]
    pub events: Option<String>,

    /// Forward only events whose path after /h/{channel} matches this glob ('/stripe/**');
    /// the others are skipped like --events.
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,

    /// Check each event's signature as it arrived at the relay (scheme standard, stripe or
    /// github; split at the first ':') and show ✓ or ✗ with the reason in the log, in
    /// --json and in `show`. Never blocks delivery; skipped events are checked too.
    #[arg(long, value_name = "SCHEME:SECRET", env = "HOOKRELAY_VERIFY", hide_env_values = true)]
    pub verify: Option<String>,

    /// Re-signing of forwarded requests.
    #[command(flatten)]
    pub resign: ResignArgs,

    /// Print the first lines (up to 5) of the app's response body under each delivery line;
    /// with --json, add it to the record as `response`.
    #[arg(long)]
    pub show_response: bool,

    /// Once the stream is connected, write the ingest URL and a newline to PATH (atomically:
    /// the file appears complete). A file already there is removed at start, and the file
    /// is removed again when listen exits.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,

    /// Exit with status 1 when the connection to the relay is lost, instead of reconnecting
    /// (for supervisors that restart processes). Applies once connected: an unreachable
    /// relay at start is still retried.
    #[arg(long)]
    pub exit_on_disconnect: bool,
}

impl ListenArgs {
    /// The command's config. A problem clap could not see (a bad routes file, --verify,
    /// --secret, no target) ends the process as a usage error: `error: ...`, exit 2.
    pub fn into_config(self) -> Result<Config, UsageError> {
        self.try_into_config(Path::new(DEFAULT_ROUTES_FILE)).map_err(UsageError)
    }

    /// The command's config, or the usage error; `default_routes` is read when it exists
    /// and neither --routes nor --no-routes is given.
    pub fn try_into_config(self, default_routes: &Path) -> Result<Config, String> {
        let routes = match (&self.routes, self.no_routes) {
            (Some(path), _) => Some((path.clone(), false)),
            (None, false) if default_routes.is_file() => Some((default_routes.to_owned(), true)),
            (None, _) => None,
        };
        let routes = routes
            .map(|(path, discovered)| {
                let routes =
                    crate::deliver::routes::load(&path).map_err(|err| format!("{err:#}"))?;
                Ok::<_, String>(RoutesFile { path, routes, discovered })
            })
            .transpose()?;
        if self.forward_to.is_none() && routes.is_none() {
            return Err(format!(
                "--forward-to URL is required \
                 (or a routes file: --routes FILE or ./{DEFAULT_ROUTES_FILE})"
            ));
        }
        let verify = self
            .verify
            .as_deref()
            .map(str::parse::<Verify>)
            .transpose()
            .map_err(|err| format!("--verify: {err}"))?;
        let resign = self.resign.resign().map_err(|err| format!("{err:#}"))?;
        let selection = self.relay.into_selection();
        Ok(Config {
            forward_to: self.forward_to,
            routes,
            filter: Filter::new(self.events.as_deref(), self.path),
            verify,
            resign,
            show_response: self.show_response,
            ready_file: self.ready_file,
            exit_on_disconnect: self.exit_on_disconnect,
            relay: selection.relay,
            admin_token: self.admin.admin_token,
            channel: selection.channel,
            headers: self.headers,
            concurrency: usize::from(self.concurrency),
            timeout: self.timeout,
            max_attempts: self.max_attempts,
            json: self.json,
            tui: self.tui,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn config(args: &[&str], default_routes: &Path) -> Result<Config, String> {
        let cli = Cli::try_parse_from([&["hookrelay", "listen"], args].concat())
            .map_err(|err| err.to_string())?;
        let Command::Listen(listen) = cli.command else { panic!("not listen") };
        listen.try_into_config(default_routes)
    }

    #[test]
    fn a_target_is_needed_unless_a_routes_file_is_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hookrelay.toml");
        let err = config(&[], &file).expect_err("fails");
        assert!(err.contains("--forward-to"), "{err}");
        std::fs::write(&file, "[[route]]\nto = \"http://127.0.0.1:3000/\"\n").expect("written");
        let found = config(&[], &file).expect("routes found");
        assert!(found.routes.is_some_and(|r| r.discovered && r.routes.len() == 1));
        assert!(found.forward_to.is_none());
        assert!(config(&["--no-routes"], &file).is_err());
        std::fs::write(&file, "[[route]]\nto = \"http://127.0.0.1:3000/\"\npaht = 1\n").expect("w");
        let err = config(&["-f", "http://localhost:1/"], &file).expect_err("fails");
        assert!(err.starts_with(&format!("{}:3: unknown field", file.display())), "{err}");
    }

    #[test]
    fn verify_and_secret_problems_name_the_flag_without_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let none = dir.path().join("none.toml");
        let f = ["-f", "http://localhost:3000/"];
        let err = config(&[&f[..], &["--verify", "stripe-whsec_abc"]].concat(), &none)
            .expect_err("fails");
        assert!(err.starts_with("--verify: expected SCHEME:SECRET"), "{err}");
        assert!(!err.contains("whsec_abc"), "{err}");
        let err =
            config(&[&f[..], &["--verify", "paypal:abc"]].concat(), &none).expect_err("fails");
        assert!(err.contains("--verify") && err.contains("paypal"), "{err}");
        let ok = config(&[&f[..], &["--verify", "github:a:b", "--events", "x.*"]].concat(), &none)
            .expect("valid");
        assert!(ok.verify.is_some() && ok.filter.events == ["x.*"]);
        let err =
            config(&[&f[..], &["--resign", "standard", "--secret", "whsec_!"]].concat(), &none)
                .expect_err("fails");
        assert!(err.starts_with("--secret: "), "{err}");
    }
}
