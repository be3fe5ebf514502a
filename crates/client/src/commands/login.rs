//! `hookrelay login RELAY_URL [--admin-token T]` and `hookrelay logout` (DESIGN §4): make a
//! deployed relay this laptop's default. `login` checks that a hookrelay relay answers at the
//! URL and that the token may create channels there, reuses the channel saved for that relay
//! (or creates one), saves the relay and the token (0600) and prints the ingest URL to paste
//! into the provider; every command then uses that relay until `logout`.

use std::process::ExitCode;

use url::Url;

use crate::commands::CommandEnv;
use crate::config::RelayChoice;
use crate::local::saved_relay::{LastRelay, Login, LoginFile};
use crate::local::state::ChannelBook;
use crate::output::stdout::write_stdout;
use crate::relay::api::{ApiError, RelayApi};
use crate::relay::channel_choice::{ChoiceError, IfNoChannel, Policy, choose};
use hookrelay_http::{Reach, install_crypto_provider};

/// What `hookrelay login` uses, as `cli` builds it from the flags.
#[derive(Debug)]
pub struct Config {
    /// The relay's base URL.
    pub relay: Url,
    /// The admin token (`--admin-token`, `HOOKRELAY_ADMIN_TOKEN`), when the relay guards
    /// channel creation.
    pub admin_token: Option<String>,
}

/// Runs `login`.
pub(crate) async fn run(config: Config, env: &CommandEnv) -> anyhow::Result<ExitCode> {
    install_crypto_provider();
    let Config { relay, admin_token } = config;
    match hookrelay_http::probe(&relay).await {
        Reach::Never(broken) => {
            anyhow::bail!("cannot use the relay: {}", broken.advice(&relay, "login"))
        }
        Reach::Down(reason) => anyhow::bail!(
            "could not reach the relay at {relay} ({reason}); check the URL and that the relay runs"
        ),
        Reach::Ok => {}
    }
    let api = RelayApi::new(hookrelay_http::client(), relay.clone())
        .with_admin_token(admin_token.clone());
    if !api.is_hookrelay().await {
        anyhow::bail!(
            "{relay} answers, but not as a hookrelay relay (its /healthz does not say \
             \"service\": \"hookrelay\"); check the URL"
        );
    }
    api.check_admin().await.map_err(|err| refused(err, &relay, admin_token.is_some()))?;
    let policy = Policy { check_saved: true, if_none: IfNoChannel::Create };
    let channel = match choose(&api, &relay, None, &ChannelBook::new(&env.dirs), policy, None).await
    {
        Ok(channel) => channel,
        Err(ChoiceError::Api(err)) => {
            return Err(anyhow::Error::new(err).context("could not create a channel"));
        }
        Err(ChoiceError::Local(err)) => return Err(err),
        Err(err @ (ChoiceError::NoneSaved | ChoiceError::UnknownGiven { .. })) => {
            return Err(err.into());
        }
    };
    LoginFile::new(&env.dirs).save(&Login { relay: relay.clone(), admin_token })?;
    LastRelay::new(&env.dirs).save(&RelayChoice::Remote(relay.clone()))?;
    let text = format!(
        "logged in to {relay}\n  channel     {}\n  ingest URL  {}   ← paste into your provider\n\
         Every command now uses this relay; `hookrelay logout` goes back to the embedded one.\n",
        channel.channel, channel.ingest_url
    );
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The admin check's failure, worded for `login`.
fn refused(err: ApiError, relay: &Url, gave_token: bool) -> anyhow::Error {
    match err {
        ApiError::Status { status: 401 | 403, message } if gave_token => anyhow::anyhow!(
            "the relay at {relay} refused the admin token ({message}); the token is in \
             DATA_DIR/admin-token on the relay's host (docs/deploy.md)"
        ),
        ApiError::Status { status: 401 | 403, .. } => anyhow::anyhow!(
            "the relay at {relay} guards channel creation: pass --admin-token T (or \
             HOOKRELAY_ADMIN_TOKEN); the token is in DATA_DIR/admin-token on the relay's host"
        ),
        other => anyhow::Error::new(other).context(format!("could not check the relay at {relay}")),
    }
}

/// Runs `logout`: forgets the saved relay, so commands use the embedded one again.
pub(crate) async fn logout(env: &CommandEnv) -> anyhow::Result<ExitCode> {
    let file = LoginFile::new(&env.dirs);
    let login = file.load()?;
    file.remove()?;
    LastRelay::new(&env.dirs).forget()?;
    let text = match login {
        Some(login) => format!(
            "logged out of {}; commands use the embedded relay again (the channel saved for \
             that relay is kept for a later login)\n",
            login.relay
        ),
        None => "not logged in to any relay; commands use the embedded relay\n".to_owned(),
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
