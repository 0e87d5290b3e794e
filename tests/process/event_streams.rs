//! Event streams and the process: shutdown, a database restart, the query token.

use super::*;

/// An open event stream; `wait_for` reads until an `event:` line of that name comes.
struct Stream {
    res: reqwest::Response,
    seen: String,
}

impl Stream {
    async fn open(server: &Server, user_id: &str, token: &str) -> Self {
        let res = server
            .client
            .get(format!("{}/api/{user_id}/events?access_token={token}", server.base))
            .send()
            .await
            .expect("open the stream");
        assert_eq!(res.status(), 200);
        let mut stream = Self {
            res,
            seen: String::new(),
        };
        assert!(stream.wait_for("ready", Duration::from_secs(5)).await, "ready first");
        stream
    }

    /// Whether `event: <name>` arrives within `within` (what came before it is dropped).
    async fn wait_for(&mut self, name: &str, within: Duration) -> bool {
        let marker = format!("event: {name}\n");
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(at) = self.seen.find(&marker) {
                self.seen.drain(..at + marker.len());
                return true;
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return false,
            }
        }
    }

    /// Whether the stream ends within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(_) => return true,
                Err(_) => return false,
            }
        }
    }
}

#[tokio::test]
async fn sigterm_with_open_streams_exits_at_once_and_never_logs_the_query_token() {
    let dir = TempDir::new().unwrap();
    let mut server = start_server(dir.path(), &vars(&[("BETTER_AUTH_SECRET", SECRET)])).await;
    let (user_id, token) = server.signup("streams.stop@example.com").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(Stream::open(&server, &user_id, &token).await);
    }
    let started = Instant::now();
    server.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "open streams held the shutdown up for {:?}",
        started.elapsed()
    );
    for mut s in streams {
        assert!(s.ends_within(Duration::from_secs(2)).await);
    }
    let log = server.proc.stderr();
    assert!(log.contains("/events"), "the stream's request is logged:\n{log}");
    assert!(!log.contains(&token), "the query's token is never logged:\n{log}");
}

#[tokio::test]
async fn postgres_restart_under_open_streams_sends_ready_and_goes_on() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("streams.restart@example.com").await;
    let mut streams = vec![
        Stream::open(&server, &user_id, &token).await,
        Stream::open(&server, &user_id, &token).await,
    ];
    server.create_task(&user_id, &token, "Before the restart").await;
    for s in &mut streams {
        assert!(s.wait_for("change", Duration::from_secs(2)).await);
    }

    let out = cluster.stop();
    assert!(
        out.status.success(),
        "pg_ctl stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.start();
    // Every open stream says so: a new `ready`, after which its client syncs.
    for s in &mut streams {
        assert!(
            s.wait_for("ready", Duration::from_secs(20)).await,
            "ready after the restart"
        );
    }
    // Once requests work again, changes flow as before.
    let back = Instant::now();
    loop {
        let (status, _) = server
            .call(
                "POST",
                &format!("/api/{user_id}/tasks"),
                Some(&token),
                Some(&json!({"title": "After"})),
            )
            .await;
        if status == 201 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(20), "no recovery: {status}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for s in &mut streams {
        assert!(
            s.wait_for("change", Duration::from_secs(2)).await,
            "changes after the restart"
        );
    }
    assert!(server.proc.exited().is_none());
}
