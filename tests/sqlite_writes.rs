//! Many concurrent writers (SPEC §4, §8, §9): every write answers 2xx, none is lost, and each
//! user's writes take change numbers one after another (a response's `ETag` is the object's change
//! number), with every change seen exactly once by a sync. On SQLite they all go through its one
//! writer connection; the same holds on PostgreSQL.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{join_all, status_json, task_url, tasks_url, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(concurrent_writers_take_change_numbers_in_turn);

const USERS: usize = 4;
const TASKS: usize = 5;
/// Per user: creates and toggles sent at once (4 users × 50 = 200 concurrent requests).
const CREATES: usize = 25;
const TOGGLES_PER_TASK: usize = 5;

fn version(res: &reqwest::Response) -> i64 {
    let etag = res.headers()["etag"].to_str().unwrap();
    etag.trim_matches('"').parse().unwrap()
}

async fn sync_all(app: &TestApp, user: &TestUser, since: &str) -> (Vec<Value>, String) {
    let mut cursor = since.to_owned();
    let mut seen = Vec::new();
    loop {
        let (status, body) = app
            .call(
                user,
                Method::GET,
                &format!("/api/{}/sync?limit=7&since={cursor}", user.id),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        seen.extend(body["tasks"].as_array().unwrap().iter().cloned());
        cursor = body["cursor"].as_str().unwrap().to_owned();
        if body["more"] == false {
            return (seen, cursor);
        }
    }
}

async fn concurrent_writers_take_change_numbers_in_turn(app: &TestApp) {
    let mut users = Vec::new();
    let mut tasks: Vec<Vec<Value>> = Vec::new();
    let mut versions: Vec<BTreeSet<i64>> = Vec::new();
    for u in 0..USERS {
        let user = app.signup(&format!("writer{u}@example.com")).await;
        let mut own = Vec::new();
        let mut taken = BTreeSet::new();
        for t in 0..TASKS {
            let res = app
                .as_user(&user, Method::POST, &tasks_url(&user))
                .json(&json!({"title": format!("seed {t}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            taken.insert(version(&res));
            own.push(res.json::<Value>().await.unwrap());
        }
        users.push(user);
        tasks.push(own);
        versions.push(taken);
    }
    let mut cursors = Vec::new();
    for user in &users {
        let (status, body) = app
            .call(user, Method::GET, &format!("/api/{}/sync", user.id), None)
            .await;
        assert_eq!(status, 200, "{body}");
        cursors.push(body["cursor"].as_str().unwrap().to_owned());
    }

    // Every request of every user at once, each on a connection of its own when the client needs
    // one; half the creates and one toggle in five carry an Idempotency-Key (their answer is saved
    // in the same transaction).
    let mut requests = Vec::new();
    for (u, user) in users.iter().enumerate() {
        for c in 0..CREATES {
            let mut req = app
                .as_user(user, Method::POST, &tasks_url(user))
                .json(&json!({"title": format!("new {c}")}));
            if c % 2 == 0 {
                req = req.header("Idempotency-Key", format!("create-{c}"));
            }
            requests.push((u, None, req));
        }
        for (t, task) in tasks[u].iter().enumerate() {
            for n in 0..TOGGLES_PER_TASK {
                let mut req = app.as_user(user, Method::PATCH, &format!("{}/complete", task_url(user, task)));
                if n == 0 {
                    req = req.header("Idempotency-Key", format!("toggle-{t}"));
                }
                requests.push((u, Some(t), req));
            }
        }
    }
    let answers = join_all(requests.into_iter().map(|(u, t, req)| async move {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let v = version(&res);
        let (_, body) = status_json(res).await;
        (u, t, status, v, body)
    }))
    .await;

    let mut last_toggle: HashMap<(usize, usize), i64> = HashMap::new();
    for (u, t, status, v, body) in &answers {
        match t {
            None => assert_eq!(*status, 201, "{body}"),
            Some(t) => {
                assert_eq!(*status, 200, "{body}");
                let last = last_toggle.entry((*u, *t)).or_default();
                *last = (*last).max(*v);
            }
        }
        assert!(versions[*u].insert(*v), "change number {v} given twice to user {u}");
    }
    let writes = TASKS + CREATES + TASKS * TOGGLES_PER_TASK;
    for (u, taken) in versions.iter().enumerate() {
        // No gap: the numbers run on from the first without a hole.
        let first = *taken.first().unwrap();
        let expected: BTreeSet<i64> = (first..first + writes as i64).collect();
        assert_eq!(taken, &expected, "user {u}'s change numbers");
    }

    for (u, user) in users.iter().enumerate() {
        // No lost update: an odd number of toggles leaves each task completed, at the version of
        // its last toggle.
        for (t, task) in tasks[u].iter().enumerate() {
            let res = app.get_ok(user, &task_url(user, task)).await;
            assert_eq!(version(&res), last_toggle[&(u, t)]);
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["completed"], true, "{body}");
        }
        let (status, all) = app
            .call(user, Method::GET, &format!("{}?limit=100", tasks_url(user)), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(all.as_array().unwrap().len(), TASKS + CREATES);

        // A sync from before the writes sees every changed task exactly once, in its final state.
        let (seen, cursor) = sync_all(app, user, &cursors[u]).await;
        let mut ids: Vec<&str> = seen.iter().map(|t| t["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "a task synced twice");
        assert_eq!(ids.len(), CREATES + TASKS);
        for t in &seen {
            let stored = all.as_array().unwrap().iter().find(|a| a["id"] == t["id"]).unwrap();
            assert_eq!(t, stored);
        }
        let (again, _) = sync_all(app, user, &cursor).await;
        assert!(again.is_empty(), "nothing changed after the last cursor: {again:?}");
    }
}
