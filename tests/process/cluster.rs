//! A PostgreSQL cluster of a test's own, which it may stop, restart and freeze.

use super::*;

/// A throwaway PostgreSQL cluster run as the `postgres` system user; stopped on drop.
pub(crate) struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
}

fn postgres_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn runuser() -> Option<PathBuf> {
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn tool(&self, tool: &str, args: &[&str]) -> std::process::Output {
        Command::new(runuser().expect("runuser"))
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"))
    }

    pub(crate) fn create() -> Option<Self> {
        if !is_root() {
            skip("the outage test runs initdb as the postgres user and needs root");
            return None;
        }
        let Some(_) = runuser() else {
            skip("runuser is missing");
            return None;
        };
        let Some(bin) = postgres_bin_dir() else {
            skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin");
            return None;
        };
        let dir = TempDir::new().unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(chown.success(), "chown -R postgres {}", dir.path().display());
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
        };
        let data = cluster.data();
        let out = cluster.tool(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.start();
        Some(cluster)
    }

    pub(crate) fn start(&self) {
        let data = self.data();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        let out = self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}\nlog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    pub(crate) fn stop(&self) -> std::process::Output {
        let data = self.data();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "-t",
                "30",
                "stop",
            ],
        )
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Sends `signal` (`STOP`, `CONT`) to the postmaster and every process it started.
    pub(crate) fn signal_all(&self, signal: &str) {
        let Ok(pid_file) = std::fs::read_to_string(self.data().join("postmaster.pid")) else {
            return;
        };
        let Some(pid) = pid_file.lines().next().map(str::trim) else {
            return;
        };
        let _ = Command::new("pkill").args([&format!("-{signal}"), "-P", pid]).status();
        let _ = Command::new("kill").args([&format!("-{signal}"), pid]).status();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A frozen cluster (a failed test) could not even be stopped.
        self.signal_all("CONT");
        let _ = self.stop();
    }
}
