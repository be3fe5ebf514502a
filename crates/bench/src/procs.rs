//! The processes a run starts: `hookrelayd`, `hookrelay listen`, `serve-200` and
//! `redis-server` children, each on a port picked by binding `127.0.0.1:0`, in the run's
//! temporary directory. Every
//! child is killed when its handle is dropped (end of a measurement, an error, Ctrl-C), and
//! the temporary directory is removed with the `Workspace`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::ledger::SharedLedger;

/// How long a child may take to print its ready line or write its ready file.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How the binaries are built; printed when one is missing.
pub(crate) const BUILD_COMMAND: &str =
    "cargo build --release -p hookrelay-relay -p hookrelay-client -p hookrelay-bench";

/// The binaries under test and the run's scratch directory (removed on drop).
pub(crate) struct Workspace {
    relayd: PathBuf,
    client: PathBuf,
    bench: PathBuf,
    relay_args: Vec<String>,
    dir: PathBuf,
    next: AtomicU32,
}

impl Workspace {
    /// Finds `hookrelayd` and `hookrelay` next to this executable and makes a scratch dir;
    /// every `hookrelayd` started gets `relay_args` after the bench's own flags.
    pub(crate) fn new(relay_args: Vec<String>) -> anyhow::Result<Self> {
        let bench = std::env::current_exe().context("cannot locate the bench executable")?;
        let bin_dir = bench.parent().context("the bench executable has no directory")?;
        let find = |name: &str| {
            let path = bin_dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                bail!("{} not found; build everything first with: {BUILD_COMMAND}", path.display())
            }
        };
        let (relayd, client) = (find("hookrelayd")?, find("hookrelay")?);
        if !bin_dir.ends_with("release") {
            eprintln!("warning: {} is not a release build directory", bin_dir.display());
        }
        let dir = std::env::temp_dir().join(format!("hookrelay-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self { relayd, client, bench, relay_args, dir, next: AtomicU32::new(0) })
    }

    /// A fresh, empty directory inside the scratch directory.
    pub(crate) fn fresh_dir(&self, what: &str) -> anyhow::Result<PathBuf> {
        let dir = self.dir.join(format!("{what}-{}", self.next.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// Starts `hookrelayd` with default flags (plus any `relay_args`) on a fresh data dir.
    pub(crate) async fn relay(&self) -> anyhow::Result<Proc> {
        self.relay_with(&self.relay_args).await
    }

    /// Starts `hookrelayd` as [`Workspace::relay`] does, plus `--fsync` (SQLite
    /// `synchronous=FULL`: an acked event survives power loss).
    pub(crate) async fn fsync_relay(&self) -> anyhow::Result<Proc> {
        let mut args = self.relay_args.clone();
        args.push("--fsync".to_owned());
        self.relay_with(&args).await
    }

    /// Starts `hookrelayd` on the Redis at `redis` (without `relay_args`: they are for the
    /// default store).
    pub(crate) async fn redis_relay(&self, redis: SocketAddr) -> anyhow::Result<Proc> {
        self.relay_with(&["--store".to_owned(), format!("redis://{redis}")]).await
    }

    async fn relay_with(&self, args: &[String]) -> anyhow::Result<Proc> {
        let addr = free_port()?;
        let dir = self.fresh_dir("relay")?;
        let mut command = Command::new(&self.relayd);
        command.arg("--listen").arg(addr.to_string()).arg("--data-dir").arg(&dir);
        command.args(args);
        command.env("RUST_LOG", "warn");
        let mut proc = Proc::spawn(command, "hookrelayd", addr, &dir)?;
        proc.wait_for_line("hookrelayd listening on").await?;
        Ok(proc)
    }

    /// Starts `redis-server` as the relay needs it (AOF, fsync before every answer) on a
    /// fresh directory; `None` when it is not installed.
    pub(crate) async fn redis(&self) -> anyhow::Result<Option<Proc>> {
        let addr = free_port()?;
        let dir = self.fresh_dir("redis")?;
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1", "--port", &addr.port().to_string()]);
        command.args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
        command.arg("--dir").arg(&dir);
        let mut proc = match Proc::spawn(command, "redis-server", addr, &dir) {
            Ok(proc) => proc,
            Err(err) if not_found(&err) => return Ok(None),
            Err(err) => return Err(err),
        };
        proc.wait_for_line("Ready to accept connections").await?;
        Ok(Some(proc))
    }

    /// Starts `hookrelay-bench serve-200`, answering after `delay_ms`.
    pub(crate) async fn app(&self, delay_ms: u64) -> anyhow::Result<Proc> {
        let addr = free_port()?;
        let dir = self.fresh_dir("app")?;
        let mut command = Command::new(&self.bench);
        command.arg("serve-200").arg("--listen").arg(addr.to_string());
        command.arg("--delay-ms").arg(delay_ms.to_string());
        let mut proc = Proc::spawn(command, "serve-200", addr, &dir)?;
        proc.wait_for_line(crate::serve::READY_LINE).await?;
        Ok(proc)
    }

    /// Starts `hookrelay listen --json` on a channel, forwarding to `app`, and waits until
    /// its stream is connected (its `--ready-file` appears). Its stdout feeds the returned
    /// ledger.
    pub(crate) async fn listen(
        &self,
        relay: SocketAddr,
        channel: &crate::http::Channel,
        app: SocketAddr,
        concurrency: u16,
    ) -> anyhow::Result<(Proc, SharedLedger)> {
        let dir = self.fresh_dir("listen")?;
        let ready = dir.join("ready");
        let mut command = Command::new(&self.client);
        command.arg("listen").arg("--json").arg("--no-routes");
        command.arg("--relay").arg(format!("http://{relay}"));
        command.arg("--channel").arg(&channel.id).arg("--token").arg(&channel.token);
        command.arg("--forward-to").arg(format!("http://{app}/in"));
        command.arg("--concurrency").arg(concurrency.to_string());
        command.arg("--ready-file").arg(&ready);
        command.env("HOOKRELAY_CONFIG_DIR", dir.join("config"));
        command.env("HOOKRELAY_DATA_DIR", dir.join("data"));
        command.env("RUST_LOG", "warn").env("NO_COLOR", "1");
        let mut proc = Proc::spawn(command, "hookrelay listen", relay, &dir)?;
        let ledger = SharedLedger::default();
        if let Some(stdout) = proc.stdout.take() {
            tokio::spawn(crate::ledger::follow(stdout, ledger.clone()));
        }
        let started = Instant::now();
        while !ready.exists() {
            if let Some(status) = proc.child.try_wait()? {
                bail!("hookrelay listen exited ({status}) before it connected{}", proc.log_tail());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "hookrelay listen did not connect within {READY_TIMEOUT:?}{}",
                    proc.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok((proc, ledger))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One child process, killed on drop. Its stderr goes to `stderr.log` in its directory.
pub(crate) struct Proc {
    name: &'static str,
    child: Child,
    stdout: Option<BufReader<ChildStdout>>,
    log: PathBuf,
    /// The address it serves (for `listen`: its relay's).
    pub addr: SocketAddr,
}

impl Proc {
    fn spawn(
        mut command: Command,
        name: &'static str,
        addr: SocketAddr,
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let log = dir.join("stderr.log");
        let stderr = std::fs::File::create(&log).context("cannot create a log file")?;
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr).kill_on_drop(true);
        let mut child = command.spawn().with_context(|| format!("could not start {name}"))?;
        let stdout = child.stdout.take().map(BufReader::new);
        Ok(Self { name, child, stdout, log, addr })
    }

    /// The process id, for `/proc/PID/status`.
    pub(crate) fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().with_context(|| format!("{} has exited", self.name))
    }

    /// Stops the process and waits for it.
    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Reads stdout until a line containing `text`.
    async fn wait_for_line(&mut self, text: &str) -> anyhow::Result<()> {
        let stdout = self.stdout.as_mut().context("stdout already taken")?;
        let mut line = String::new();
        let read = tokio::time::timeout(READY_TIMEOUT, async {
            loop {
                line.clear();
                if stdout.read_line(&mut line).await? == 0 {
                    return Ok::<bool, std::io::Error>(false);
                }
                if line.contains(text) {
                    return Ok(true);
                }
            }
        });
        match read.await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => bail!("{} exited before it was ready{}", self.name, self.log_tail()),
            Ok(Err(err)) => Err(err).context(format!("could not read {}'s output", self.name)),
            Err(_) => {
                bail!("{} was not ready within {READY_TIMEOUT:?}{}", self.name, self.log_tail())
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n  ");
        if tail.is_empty() { String::new() } else { format!("; its stderr ends with:\n  {tail}") }
    }
}

/// Whether `err` says the program is not installed.
fn not_found(err: &anyhow::Error) -> bool {
    err.downcast_ref::<std::io::Error>()
        .is_some_and(|err| err.kind() == std::io::ErrorKind::NotFound)
}

/// A free loopback port: bind `127.0.0.1:0`, note the port, release it for the child.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    listener.local_addr().context("cannot read the bound port")
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
pub(crate) fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in {path}"))
}

/// CPU time (user + system) a process has used, from `/proc/PID/stat`. Assumes the usual
/// 100 clock ticks per second (reading `CLK_TCK` would need libc).
pub(crate) fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest =
        text.rsplit_once(')').map(|(_, rest)| rest).with_context(|| format!("bad {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok());
    let (user, system) = tick(11).zip(tick(12)).with_context(|| format!("bad {path}"))?;
    Ok((user + system) / 100.0)
}
