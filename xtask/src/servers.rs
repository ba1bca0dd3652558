//! The servers the peers run and the benchmark use: the Debian `influxdb` (1.6.7) and
//! `victoria-metrics` (1.79.5) packages started by hand (never as system services) on a free
//! loopback port with a temporary data directory, and `influx-reference serve`. Every server
//! is a child process stopped by its PID when its `Server` is dropped, on every path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, String>;

pub const INFLUXD: &str = "/usr/bin/influxd";
pub const VICTORIA_METRICS: &str = "/usr/bin/victoria-metrics";

/// A running server; dropping it stops the process (SIGTERM, then SIGKILL) and removes its
/// temporary directory.
pub struct Server {
    pub name: String,
    pub url: String,
    child: Child,
    dir: Option<PathBuf>,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id();
        // Ask politely first so the server flushes and exits; it is our own child, by PID.
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read a bound port: {e}"))
}

fn temp_dir(tag: &str) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "xtask-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    Ok(d)
}

/// Installs the Debian packages when a binary is missing (apt-get update first), and makes
/// sure neither package runs as a system service: we start them by hand.
pub fn ensure_packages() -> Result<()> {
    if Path::new(INFLUXD).exists() && Path::new(VICTORIA_METRICS).exists() {
        return Ok(());
    }
    eprintln!("installing the Debian packages influxdb and victoria-metrics");
    let run = |args: &[&str]| -> Result<()> {
        let ok = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get (root and Debian needed): {e}"))?
            .success();
        if ok {
            Ok(())
        } else {
            Err(format!("apt-get {} failed", args.join(" ")))
        }
    };
    run(&["update", "-qq"])?;
    run(&["install", "-y", "-qq", "influxdb", "victoria-metrics"])?;
    // The packages enable services; we never use them. Disable them (and stop them where
    // systemd runs) so nothing holds ports 8086/8088/8428 behind our back.
    if Path::new("/usr/bin/systemctl").exists() {
        let now = Path::new("/run/systemd/system").exists();
        let mut args = vec!["disable"];
        if now {
            args.push("--now");
        }
        args.extend(["influxdb", "victoria-metrics"]);
        let _ = Command::new("systemctl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    for b in [INFLUXD, VICTORIA_METRICS] {
        if !Path::new(b).exists() {
            return Err(format!("{b} is missing after installing the packages"));
        }
    }
    Ok(())
}

fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Child> {
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))
}

/// GET `path` over HTTP/1.0; the status code, or `None` when nothing answers yet.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits (bounded) until `path` answers `want`; a server that exits or never answers is an
/// error with the end of its log.
fn wait_ready(server: &mut Server, port: u16, path: &str, want: u16, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http_status(port, path) == Some(want) {
            return Ok(());
        }
        let exited = server.child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() > deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "{} {} (GET {path} never answered {want}); its log ends:\n{}",
                server.name,
                match exited {
                    Some(s) => format!("exited with {s}"),
                    None => "was not ready within 30s".into(),
                },
                tail.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `influxd` 1.6 with its own config: loopback only, data under a temporary directory,
/// usage reporting and the `_internal` monitor store off.
pub fn start_influxdb() -> Result<Server> {
    let dir = temp_dir("influxdb")?;
    let port = free_port()?;
    let rpc = free_port()?;
    let conf = dir.join("influxdb.conf");
    let d = dir.display();
    std::fs::write(
        &conf,
        format!(
            r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[continuous_queries]
  enabled = false
"#
        ),
    )
    .map_err(|e| format!("{}: {e}", conf.display()))?;
    let log = dir.join("influxd.log");
    let child = spawn(
        "influxd",
        Command::new(INFLUXD).arg("-config").arg(&conf),
        &log,
    )?;
    let mut s = Server {
        name: "influxd 1.6".into(),
        url: format!("http://127.0.0.1:{port}"),
        child,
        dir: Some(dir),
    };
    wait_ready(&mut s, port, "/ping", 204, &log)?;
    Ok(s)
}

/// `victoria-metrics` 1.79 on loopback with a temporary data directory. Retention is 100
/// years: the corpus writes fixed timestamps from 1970 on, which the default month would
/// drop silently.
pub fn start_victoria_metrics() -> Result<Server> {
    let dir = temp_dir("victoria-metrics")?;
    let port = free_port()?;
    let log = dir.join("victoria-metrics.log");
    let child = spawn(
        "victoria-metrics",
        Command::new(VICTORIA_METRICS)
            .arg(format!("-storageDataPath={}", dir.join("data").display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg("-retentionPeriod=100y"),
        &log,
    )?;
    let mut s = Server {
        name: "victoria-metrics 1.79".into(),
        url: format!("http://127.0.0.1:{port}"),
        child,
        dir: Some(dir),
    };
    wait_ready(&mut s, port, "/health", 200, &log)?;
    Ok(s)
}

/// `influx-reference serve` on a free port (its first line says where it listens).
pub fn start_reference(bin: &Path, args: &[&str]) -> Result<Server> {
    let mut child = Command::new(bin)
        .arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take();
    let mut s = Server {
        name: format!("influx-reference {}", args.join(" ")),
        url: String::new(),
        child,
        dir: None,
    };
    let mut line = String::new();
    if let Some(out) = stdout {
        let mut r = BufReader::new(out);
        let _ = r.read_line(&mut line);
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = r.read_to_end(&mut sink);
        });
    }
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("{} did not say where it listens: {line:?}", s.name))?;
    s.url = url.to_string();
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no port in {url:?}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    // Any HTTP answer: `/ping` is 204 on the v2 flavors, 401 without a token on v3.
    while http_status(port, "/ping").is_none() {
        if Instant::now() > deadline {
            return Err(format!("{} never answered GET /ping", s.name));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(s)
}

/// Resident memory of a process in bytes (`VmRSS` of /proc/PID/status).
/// CPU time (user + system) a process has used so far, in seconds (`/proc/PID/stat`, in
/// USER_HZ ticks, which Linux fixes at 100 per second for user space).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

pub fn rss_bytes(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
