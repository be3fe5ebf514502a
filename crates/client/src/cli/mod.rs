//! The command line (clap derive), one file per command family: clap structs only, and
//! their conversion into the plain config each command runs with ([`Cli::into_command`]).
//! Only the crate root sees these structs; nothing below `cli` imports it.

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use hookrelay_signature::{Scheme, Secret};
use url::Url;

use crate::commands;
use crate::config::{ChannelCreds, RelayChoice, RelaySelection, parse_app_url, parse_relay_url};
use crate::deliver::forward::Resign;

mod events;
mod help;
mod listen;
mod replay;
mod sandbox;
mod show;
mod trigger;

use events::EventsArgs;
use listen::ListenArgs;
use replay::ReplayArgs;
use sandbox::SandboxArgs;
use show::ShowArgs;
use trigger::TriggerArgs;

/// hookrelay: get webhooks to your laptop, in order, byte-exact, without losing any.
#[derive(Debug, Parser)]
#[command(name = "hookrelay", version = hookrelay_flags::VERSION, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Receive webhooks from a relay and forward them to your local app, with a live log.
    Listen(ListenArgs),
    /// List the current channel's events, newest last, with their delivery state.
    Events(EventsArgs),
    /// Show one event in full: request, headers, body and every delivery attempt.
    Show(ShowArgs),
    /// Re-send stored events to your local app (optionally edited or re-signed).
    Replay(ReplayArgs),
    /// Send a simulated provider event to the current channel (or --to URL).
    Trigger(TriggerArgs),
    /// Run a local emulator of a webhook provider's management API.
    Sandbox(SandboxArgs),
    /// Make a deployed relay this laptop's default: check it and the admin token, reuse or
    /// create a channel, save them, and print the ingest URL to paste into your provider.
    Login(LoginArgs),
    /// Forget the relay `login` saved: commands use the embedded relay again.
    Logout,
    /// List the channels this laptop has saved; `new`, `delete` or `rotate` the current one.
    Channels(ChannelsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell or elvish).
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// The arguments of `hookrelay channels`.
#[derive(Debug, Args)]
pub struct ChannelsArgs {
    /// What to do with the current relay's channel (without one: list them all).
    #[command(subcommand)]
    pub action: Option<ChannelAction>,
}

/// `hookrelay channels new|delete|rotate`.
#[derive(Debug, clap::Subcommand)]
pub enum ChannelAction {
    /// Make a new channel on the current relay (a new ingest URL) and use it from now on.
    New(ChannelTarget),
    /// Delete the current relay's channel and its history there, and forget it.
    Delete(ChannelTarget),
    /// Get a new token for the current relay's channel; the old one stops working.
    Rotate(ChannelTarget),
}

/// Which relay's channel `hookrelay channels new|delete|rotate` works on.
#[derive(Debug, Args)]
pub struct ChannelTarget {
    /// Which relay (as for `listen`).
    #[command(flatten)]
    pub relay: RelayArgs,

    /// The admin token, for `new` on a relay that guards channel creation.
    #[command(flatten)]
    pub admin: AdminTokenArg,
}

impl ChannelTarget {
    fn into_selection(self) -> RelaySelection {
        let mut selection = self.relay.into_selection();
        selection.admin_token = self.admin.admin_token;
        selection
    }
}

/// The arguments of `hookrelay login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The relay's base URL (https://relay.example.com).
    #[arg(value_name = "RELAY_URL", value_parser = parse_relay_url)]
    pub relay: Url,

    /// The relay's admin token, when it guards channel creation.
    #[command(flatten)]
    pub admin: AdminTokenArg,
}

/// The argument of `hookrelay completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

impl Cli {
    /// The whole definition: the derived one plus each command's examples and the
    /// environment variables (`--help`, completions and the man page all come from it).
    pub fn definition() -> clap::Command {
        help::complete(Self::command())
    }

    /// Parses the process's arguments against [`Cli::definition`]; on a usage error (or
    /// `--help`, `--version`) prints as clap does and exits.
    pub fn parse_args() -> Self {
        let matches = Self::definition().get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }

    /// `listen --tui`: the command may draw full-screen (if stdout is a terminal), where a
    /// log line on the same terminal would scribble over it.
    pub fn wants_full_screen(&self) -> bool {
        matches!(&self.command, Command::Listen(args) if args.tui)
    }

    /// The command to run, as plain config. A problem clap could not see is a
    /// [`UsageError`](crate::config::UsageError) (exit 2), except a bad `replay --secret`,
    /// which has always been a runtime error (exit 1).
    pub fn into_command(self) -> anyhow::Result<commands::Command> {
        Ok(match self.command {
            Command::Listen(args) => commands::Command::Listen(args.into_config()?),
            Command::Events(args) => commands::Command::Events(args.into_config()),
            Command::Show(args) => commands::Command::Show(args.into_config()),
            Command::Replay(args) => commands::Command::Replay(args.into_config()?),
            Command::Trigger(args) => commands::Command::Trigger(args.into_config()),
            Command::Sandbox(args) => commands::Command::Sandbox(args.into_config()),
            Command::Completions(args) => {
                commands::Command::Print(help::completions(Self::definition(), args.shell))
            }
            Command::Man => commands::Command::Print(help::man_page(Self::definition())?),
            Command::Login(args) => commands::Command::Login(commands::login::Config {
                relay: args.relay,
                admin_token: args.admin.admin_token.filter(|token| !token.trim().is_empty()),
            }),
            Command::Logout => commands::Command::Logout,
            Command::Channels(args) => {
                use commands::channels::Action;
                commands::Command::Channels(match args.action {
                    None => Action::List,
                    Some(ChannelAction::New(target)) => Action::New(target.into_selection()),
                    Some(ChannelAction::Delete(target)) => Action::Delete(target.into_selection()),
                    Some(ChannelAction::Rotate(target)) => Action::Rotate(target.into_selection()),
                })
            }
        })
    }
}

/// `--relay`, `--port`, `--channel`, `--token`: which relay and channel a command uses.
/// Shared by `listen`, `events`, `show`, `replay` and `trigger` (DESIGN §4).
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// A remote relay's base URL (https://relay.example.com, or host:port for http). Without
    /// it, the embedded relay on 127.0.0.1:PORT is used (started in this process if none is
    /// running there; `listen` serves it itself once the process that ran it stops).
    #[arg(long, env = "HOOKRELAY_RELAY", hide_env_values = true, value_name = "URL",
          value_parser = parse_relay_url)]
    pub relay: Option<Url>,

    /// Port of the embedded relay on 127.0.0.1, when --relay is not given. Default: 8787
    /// for `listen`; for the other commands, the relay `listen` last ran with (its --relay
    /// or --port), else 8787.
    #[arg(
        long,
        env = "HOOKRELAY_PORT",
        hide_env_values = true,
        value_name = "N",
        conflicts_with = "relay"
    )]
    pub port: Option<u16>,

    /// Channel id. Without it, the channel saved for this relay is used (`listen` and
    /// `trigger` create and save one when there is none).
    #[arg(long, value_name = "ID", requires = "token")]
    pub channel: Option<String>,

    /// Token of --channel.
    #[arg(long, env = "HOOKRELAY_TOKEN", value_name = "T", hide_env_values = true)]
    pub token: Option<String>,
}

impl RelayArgs {
    /// The relay and the channel given on the command line, if any.
    pub fn into_selection(self) -> RelaySelection {
        let relay = relay_choice(self.relay, self.port);
        let channel = match (self.channel, self.token) {
            (Some(channel), Some(token)) => Some(ChannelCreds { channel, token }),
            _ => None,
        };
        RelaySelection { relay, channel, admin_token: None }
    }
}

/// `--admin-token`, for the commands that may create a channel (`listen`, `trigger`).
#[derive(Debug, Clone, Args)]
pub struct AdminTokenArg {
    /// The relay's admin token, sent when this command creates a channel on a relay that
    /// guards creation (a public hookrelayd).
    #[arg(long, env = "HOOKRELAY_ADMIN_TOKEN", hide_env_values = true, value_name = "T")]
    pub admin_token: Option<String>,
}

/// `--relay` or `--port`, if either is given (clap refuses both at once).
pub(crate) fn relay_choice(relay: Option<Url>, port: Option<u16>) -> Option<RelayChoice> {
    match (relay, port) {
        (Some(url), _) => Some(RelayChoice::Remote(url)),
        (None, Some(port)) => Some(RelayChoice::Embedded { port }),
        (None, None) => None,
    }
}

/// `--resign SCHEME --secret S`, shared by `listen` and `replay`.
#[derive(Debug, Clone, Args)]
pub struct ResignArgs {
    /// Re-sign each forwarded request with a fresh timestamp over the exact body bytes:
    /// standard (Standard Webhooks), stripe (Stripe-Signature) or github (X-Hub-Signature-256).
    #[arg(long, value_name = "SCHEME", requires = "secret", value_parser = parse_scheme)]
    pub resign: Option<Scheme>,

    /// The signing secret for --resign (whsec_... keys are base64-decoded for standard).
    #[arg(long, value_name = "S", env = "HOOKRELAY_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

impl ResignArgs {
    /// The re-signing to apply, if asked for.
    pub fn resign(&self) -> anyhow::Result<Option<Resign>> {
        let (Some(scheme), Some(secret)) = (self.resign, &self.secret) else { return Ok(None) };
        let secret =
            Secret::parse(scheme, secret).map_err(|err| anyhow::anyhow!("--secret: {err}"))?;
        Ok(Some(Resign { scheme, secret }))
    }
}

/// `--timeout`: a duration above zero and at most an hour.
pub(crate) fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let timeout = hookrelay_flags::parse_duration(text)?;
    if timeout.is_zero() || timeout > std::time::Duration::from_secs(3600) {
        return Err(format!("{text:?} must be above zero and at most 1h"));
    }
    Ok(timeout)
}

fn parse_scheme(text: &str) -> Result<Scheme, String> {
    text.parse().map_err(|err: hookrelay_signature::SchemeError| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        Cli::definition().debug_assert();
    }

    #[test]
    fn every_command_has_examples_and_the_top_level_lists_every_variable() {
        let mut definition = Cli::definition();
        let top = definition.render_help().to_string();
        for var in [
            "HOOKRELAY_RELAY",
            "HOOKRELAY_PORT",
            "HOOKRELAY_TOKEN",
            "HOOKRELAY_ADMIN_TOKEN",
            "HOOKRELAY_DATA_DIR",
            "HOOKRELAY_CONFIG_DIR",
            "HOOKRELAY_LOG",
        ] {
            assert!(top.contains(var), "{var} missing from:\n{top}");
        }
        for sub in definition.get_subcommands_mut().filter(|sub| sub.get_name() != "help") {
            let help = sub.render_help().to_string();
            let examples = help.split("Examples:\n").nth(1).unwrap_or_default();
            let count =
                examples.lines().filter(|line| line.trim_start().starts_with("hookrelay ")).count();
            assert!(count >= 1, "{} has no examples:\n{help}", sub.get_name());
            assert!(!help.contains("=]"), "a stray '=' in:\n{help}");
        }
    }

    #[test]
    fn timeouts_read_like_every_duration_and_stay_in_range() {
        assert_eq!(parse_timeout("30s"), Ok(std::time::Duration::from_secs(30)));
        assert_eq!(parse_timeout("45"), Ok(std::time::Duration::from_secs(45)));
        assert_eq!(parse_timeout("1500ms"), Ok(std::time::Duration::from_millis(1500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("2h").is_err());
    }
}
