//! A real PostgreSQL outage: stopped, restarted and frozen under load.

use super::*;

/// One answer seen by the load: when its request started and ended, and what it was.
#[derive(Debug, Clone)]
struct Answer {
    started: Instant,
    took: Duration,
    status: u16,
    /// A `{"detail": "…"}` body.
    json_detail: bool,
}

/// Clients sending list and create requests back to back until `stop` is set.
fn spawn_load(
    server: &Server,
    user_id: &str,
    token: &str,
    clients: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Answer>>> {
    (0..clients)
        .map(|i| {
            let client = server.client.clone();
            let url = format!("{}/api/{user_id}/tasks", server.base);
            let token = token.to_owned();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let req = if (n + i as u32) % 2 == 0 {
                        client.get(&url)
                    } else {
                        client.post(&url).json(&json!({"title": "under load"}))
                    };
                    let started = Instant::now();
                    let res = req.bearer_auth(&token).send().await;
                    let Ok(res) = res else {
                        panic!("the server stopped answering: {res:?}");
                    };
                    let status = res.status().as_u16();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    answers.push(Answer {
                        started,
                        took: started.elapsed(),
                        status,
                        json_detail: body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    });
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                answers
            })
        })
        .collect()
}

/// Once the database is `back`: lists `tasks` until one succeeds (JSON 503s meanwhile, success
/// within 2 s), lets the load run a little longer, stops it, and returns how long recovery took
/// and every answer the load saw.
async fn recover_then_stop_load(
    server: &Server,
    tasks: &str,
    token: &str,
    back: Instant,
    stop_load: &std::sync::atomic::AtomicBool,
    load: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
) -> (Duration, Vec<Answer>) {
    let recovered = loop {
        let (status, body) = server.call("GET", tasks, Some(token), None).await;
        if status == 200 {
            break back.elapsed();
        }
        assert_eq!(status, 503, "while reconnecting: {body}");
        assert!(body["detail"].is_string(), "{body}");
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "no success within 2 s of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_load.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for client in load {
        answers.extend(client.await.expect("load client"));
    }
    (recovered, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_under_load_fails_fast_and_recovers_without_restart() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    // The default acquire timeout (3 s): failing fast must not wait for it.
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("outage@example.com").await;
    let task = server.create_task(&user_id, &token, "Before the outage").await;
    let tasks = format!("/api/{user_id}/tasks");

    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = spawn_load(&server, &user_id, &token, 6, stop_load.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let stopping = Instant::now();
    let out = cluster.stop();
    assert!(
        out.status.success(),
        "pg_ctl stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped = Instant::now();

    // Three seconds of outage, the load going on; readiness asked now and then.
    while stopped.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let (status, body) = server.call("GET", "/health/ready", None, None).await;
        let took = started.elapsed();
        assert_eq!(status, 503, "/health/ready during the outage: {body}");
        assert!(body["detail"].is_string(), "{body}");
        assert!(
            took < Duration::from_secs(1),
            "/health/ready took {took:?} during the outage"
        );
        let (status, body) = server.call("GET", "/health", None, None).await;
        assert_eq!(
            (status, body),
            (200, json!({"status": "healthy", "message": "API is running"}))
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        server.proc.exited().is_none(),
        "the server keeps running through the outage"
    );

    // PostgreSQL may accept connections a little before `pg_ctl start -w` returns.
    let restarting = Instant::now();
    cluster.start();
    let back = Instant::now();
    let (recovered, answers) = recover_then_stop_load(&server, &tasks, &token, back, &stop_load, load).await;

    // Every answer to a request sent while the database was down: a JSON 503 within 1 s.
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started >= stopped && a.started + a.took <= restarting)
        .collect();
    assert!(
        during.len() > 20,
        "the load went on through the outage: {} answers",
        during.len()
    );
    let internal_errors = || {
        let log = server.proc.stderr();
        log.lines()
            .filter(|l| l.contains("internal error") || l.contains("status=500"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join("\n")
    };
    for answer in &during {
        assert_eq!(
            answer.status,
            503,
            "during the outage: {answer:?}\n{}",
            internal_errors()
        );
        assert!(answer.json_detail, "a JSON detail: {answer:?}");
        assert!(answer.took < Duration::from_secs(1), "503 within 1 s: {answer:?}");
    }
    // Those caught by the stop itself, and those while it came back, fail just as fast.
    for answer in answers
        .iter()
        .filter(|a| a.started >= stopping && a.status != 200 && a.status != 201)
    {
        assert_eq!(answer.status, 503, "{answer:?}\n{}", internal_errors());
        assert!(answer.json_detail, "{answer:?}");
        assert!(answer.took < Duration::from_secs(1), "{answer:?}");
    }
    let after: Vec<&Answer> = answers.iter().filter(|a| a.started >= back + recovered).collect();
    assert!(
        after.iter().all(|a| a.status == 200 || a.status == 201),
        "once recovered, everything succeeds: {after:?}"
    );

    let (status, body) = server.call("GET", "/health/ready", None, None).await;
    assert_eq!((status, body), (200, json!({"status": "ready", "database": "ok"})));
    let (status, body) = server
        .call(
            "GET",
            &format!("{tasks}/{}", task["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!((status, &body), (200, &task), "the task from before is there");
    server.create_task(&user_id, &token, "After the outage").await;
    assert!(server.proc.exited().is_none(), "no restart of taskapi");
    server.stop();
    let log = server.proc.stderr();
    assert!(
        log.contains("database unreachable"),
        "the breaker opening is logged:\n{log}"
    );
    assert!(log.contains("database reachable again"), "and its closing:\n{log}");
}

/// A database that stops answering without refusing (every PostgreSQL process frozen, as a
/// hung host or a partition that drops packets looks): no error ever comes back, yet requests
/// still answer 503 within a second, and everything works again once it thaws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_frozen_database_fails_fast_and_recovers() {
    let Some(cluster) = Cluster::create() else { return };
    let dir = TempDir::new().unwrap();
    let env = vars(&[("DATABASE_URL", &cluster.url()), ("BETTER_AUTH_SECRET", SECRET)]);
    let mut server = start_server(dir.path(), &env).await;
    let (user_id, token) = server.signup("frozen@example.com").await;
    let tasks = format!("/api/{user_id}/tasks");
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = spawn_load(&server, &user_id, &token, 6, stop_load.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;

    cluster.signal_all("STOP");
    let frozen = Instant::now();
    while frozen.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let (status, body) = server.call("GET", "/health/ready", None, None).await;
        assert_eq!(status, 503, "/health/ready while frozen: {body}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "/health/ready took {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let thawing = Instant::now();
    cluster.signal_all("CONT");
    let back = Instant::now();
    let (_, answers) = recover_then_stop_load(&server, &tasks, &token, back, &stop_load, load).await;
    let during: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.started >= frozen && a.started + a.took <= thawing)
        .collect();
    assert!(during.len() > 20, "the load went on: {} answers", during.len());
    for answer in &during {
        assert_eq!(answer.status, 503, "while frozen: {answer:?}");
        assert!(answer.json_detail, "a JSON detail: {answer:?}");
        assert!(answer.took < Duration::from_secs(1), "503 within 1 s: {answer:?}");
    }
    assert!(server.proc.exited().is_none(), "the server keeps running");
}
