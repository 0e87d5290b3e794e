//! Subtasks (SPEC §10) on both backends: one level, every 422 case, the list filter, and deletion
//! of a parent taking its subtasks along (each reported deleted by sync).

mod common;

use common::{assert_validation, join_all, status_json, task_url, tasks_url, titles, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    subtasks_name_a_top_level_parent,
    every_bad_parent_is_422_at_body_parent_id,
    parent_filter_lists_subtasks_or_top_level,
    deleting_a_parent_deletes_its_subtasks,
    parent_id_can_be_cleared_and_moved,
    concurrent_nesting_never_makes_two_levels,
    refused_writes_release_the_owner_at_once,
);

async fn subtasks_name_a_top_level_parent(app: &TestApp) {
    let user = app.signup("sub@example.com").await;
    let parent = app.create_task(&user, json!({"title": "parent"})).await;
    let child = app
        .create_task(&user, json!({"title": "child", "parent_id": parent["id"]}))
        .await;
    assert_eq!(child["parent_id"], parent["id"]);
    let (status, got) = app.call(&user, Method::GET, &task_url(&user, &child), None).await;
    assert_eq!((status, got["parent_id"].clone()), (200, parent["id"].clone()));
    // A subtask is a task like any other: it toggles, and its parent is unchanged by it.
    let (status, toggled) = app
        .call(
            &user,
            Method::PATCH,
            &format!("{}/complete", task_url(&user, &child)),
            None,
        )
        .await;
    assert_eq!(
        (status, toggled["completed"].clone(), toggled["parent_id"].clone()),
        (200, json!(true), parent["id"].clone())
    );
}

async fn every_bad_parent_is_422_at_body_parent_id(app: &TestApp) {
    let user = app.signup("badparent@example.com").await;
    let other = app.signup("other-parent@example.com").await;
    let parent = app.create_task(&user, json!({"title": "parent"})).await;
    let child = app
        .create_task(&user, json!({"title": "child", "parent_id": parent["id"]}))
        .await;
    let loner = app.create_task(&user, json!({"title": "loner"})).await;
    let foreign = app.create_task(&other, json!({"title": "foreign"})).await;
    let unknown = json!("00000000-0000-4000-8000-000000000000");
    // On create: unknown, foreign, a parent that is a subtask, not a UUID.
    for bad in [
        unknown.clone(),
        foreign["id"].clone(),
        child["id"].clone(),
        json!("nope"),
        json!(5),
    ] {
        let (status, body) = app
            .call(
                &user,
                Method::POST,
                &tasks_url(&user),
                Some(json!({"title": "x", "parent_id": bad})),
            )
            .await;
        assert_validation(status, &body, &["body", "parent_id"]);
    }
    // On update: the task itself, a parent that is a subtask, a task with subtasks becoming one.
    let cases = [
        (&loner, loner["id"].clone()),
        (&loner, child["id"].clone()),
        (&parent, loner["id"].clone()),
        (&loner, unknown),
        (&loner, foreign["id"].clone()),
    ];
    for (task, bad) in cases {
        for method in [Method::PATCH, Method::PUT] {
            let (status, body) = app
                .call(
                    &user,
                    method,
                    &task_url(&user, task),
                    Some(json!({"title": "renamed", "parent_id": bad})),
                )
                .await;
            assert_validation(status, &body, &["body", "parent_id"]);
        }
    }
    // Nothing was written.
    let (_, list) = app.call(&user, Method::GET, &tasks_url(&user), None).await;
    assert_eq!(titles(&list), ["child", "loner", "parent"]);
    let (_, got) = app.call(&user, Method::GET, &task_url(&user, &loner), None).await;
    assert_eq!(got["parent_id"], Value::Null);
}

async fn parent_filter_lists_subtasks_or_top_level(app: &TestApp) {
    let user = app.signup("pfilter@example.com").await;
    let a = app.create_task(&user, json!({"title": "a"})).await;
    let b = app.create_task(&user, json!({"title": "b"})).await;
    app.create_task(&user, json!({"title": "a1", "parent_id": a["id"]}))
        .await;
    app.create_task(&user, json!({"title": "a2", "parent_id": a["id"], "tags": ["x"]}))
        .await;
    app.create_task(&user, json!({"title": "b1", "parent_id": b["id"]}))
        .await;
    let res = app
        .as_user(
            &user,
            Method::GET,
            &format!("{}?parent_id={}", tasks_url(&user), a["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "2");
    assert_eq!(titles(&res.json().await.unwrap()), ["a1", "a2"]);
    let (_, top) = app
        .call(
            &user,
            Method::GET,
            &format!("{}?parent_id=null", tasks_url(&user)),
            None,
        )
        .await;
    assert_eq!(titles(&top), ["a", "b"]);
    let (_, all) = app.call(&user, Method::GET, &tasks_url(&user), None).await;
    assert_eq!(all.as_array().unwrap().len(), 5, "without the filter, every task");
    let (_, tagged) = app
        .call(
            &user,
            Method::GET,
            &format!("{}?parent_id={}&tag=x", tasks_url(&user), a["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(titles(&tagged), ["a2"]);
    for bad in ["parent_id=", "parent_id=none", "parent_id=NULL1"] {
        let (status, body) = app
            .call(&user, Method::GET, &format!("{}?{bad}", tasks_url(&user)), None)
            .await;
        assert_validation(status, &body, &["query", "parent_id"]);
    }
}

async fn deleting_a_parent_deletes_its_subtasks(app: &TestApp) {
    let user = app.signup("cascade@example.com").await;
    let parent = app.create_task(&user, json!({"title": "parent"})).await;
    let kids = [
        app.create_task(&user, json!({"title": "k1", "parent_id": parent["id"]}))
            .await,
        app.create_task(&user, json!({"title": "k2", "parent_id": parent["id"], "tags": ["t"]}))
            .await,
    ];
    let other = app.create_task(&user, json!({"title": "other"})).await;
    let (_, start) = app
        .call(&user, Method::GET, &format!("/api/{}/sync", user.id), None)
        .await;
    let cursor = start["cursor"].as_str().unwrap().to_owned();
    // Deleting a subtask takes only it.
    let (status, _) = app.call(&user, Method::DELETE, &task_url(&user, &kids[0]), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.call(&user, Method::DELETE, &task_url(&user, &parent), None).await;
    assert_eq!(status, 204);
    for gone in [&parent, &kids[1]] {
        let (status, _) = app.call(&user, Method::GET, &task_url(&user, gone), None).await;
        assert_eq!(status, 404);
    }
    let (_, list) = app.call(&user, Method::GET, &tasks_url(&user), None).await;
    assert_eq!(titles(&list), ["other"]);
    let (_, tags) = app
        .call(&user, Method::GET, &format!("/api/{}/tags", user.id), None)
        .await;
    assert_eq!(tags, json!([]), "the subtask's tags went with it");
    let (_, delta) = app
        .call(
            &user,
            Method::GET,
            &format!("/api/{}/sync?since={cursor}", user.id),
            None,
        )
        .await;
    let mut deleted: Vec<String> = delta["deleted"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    deleted.sort();
    let mut want: Vec<String> = [&parent, &kids[0], &kids[1]]
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(deleted, want, "each subtask is reported deleted");
    assert_eq!(delta["tasks"], json!([]));
    let _ = other;
}

async fn parent_id_can_be_cleared_and_moved(app: &TestApp) {
    let user = app.signup("move@example.com").await;
    let a = app.create_task(&user, json!({"title": "a"})).await;
    let b = app.create_task(&user, json!({"title": "b"})).await;
    let child = app
        .create_task(&user, json!({"title": "child", "parent_id": a["id"]}))
        .await;
    let (status, moved) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &child),
            Some(json!({"parent_id": b["id"]})),
        )
        .await;
    assert_eq!((status, moved["parent_id"].clone()), (200, b["id"].clone()));
    let (status, cleared) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &child),
            Some(json!({"parent_id": null})),
        )
        .await;
    assert_eq!((status, cleared["parent_id"].clone()), (200, Value::Null));
    // Once b has no subtasks left it may become one.
    let (status, nested) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &b),
            Some(json!({"parent_id": a["id"]})),
        )
        .await;
    assert_eq!(
        (status, nested["parent_id"].clone()),
        (200, a["id"].clone()),
        "{nested}"
    );
    // A PATCH that leaves parent_id out keeps it.
    let (_, same) = app
        .call(&user, Method::PATCH, &task_url(&user, &b), Some(json!({"title": "b2"})))
        .await;
    assert_eq!(same["parent_id"], a["id"]);
}

async fn concurrent_nesting_never_makes_two_levels(app: &TestApp) {
    // x → y and y → z at once: one of them must be refused, or the tree would have two levels.
    let user = app.signup("nest-race@example.com").await;
    for round in 0..5 {
        let x = app.create_task(&user, json!({"title": format!("x{round}")})).await;
        let y = app.create_task(&user, json!({"title": format!("y{round}")})).await;
        let z = app.create_task(&user, json!({"title": format!("z{round}")})).await;
        let reqs = [(&x, &y), (&y, &z)].map(|(task, parent)| {
            let req = app
                .as_user(&user, Method::PATCH, &task_url(&user, task))
                .json(&json!({"parent_id": parent["id"]}));
            async move { status_json(req.send().await.unwrap()).await.0 }
        });
        let codes = join_all(reqs).await;
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [200, 422], "round {round}: {codes:?}");
        let (_, list) = app
            .call(
                &user,
                Method::GET,
                &format!("{}?parent_id=null", tasks_url(&user)),
                None,
            )
            .await;
        let top: Vec<&Value> = list.as_array().unwrap().iter().map(|t| &t["id"]).collect();
        for t in [&x, &y, &z] {
            let (_, got) = app.call(&user, Method::GET, &task_url(&user, t), None).await;
            if let Some(parent) = got["parent_id"].as_str() {
                assert!(
                    top.contains(&&json!(parent)),
                    "round {round}: a subtask's parent is top-level"
                );
            }
        }
    }
}

/// A write refused half-way (its transaction already holds the owner's change counter) must let
/// the owner go when it answers: 8 clients alternating refused and accepted writes for one user
/// would otherwise wait behind a transaction left open on an idle connection.
async fn refused_writes_release_the_owner_at_once(app: &TestApp) {
    let user = app.signup("release@example.com").await;
    let missing = uuid::Uuid::now_v7();
    let user = &user;
    let client = |n: usize| async move {
        for round in 0..10 {
            let body = json!({"title": format!("orphan {n}.{round}"), "parent_id": missing});
            let (status, refused) = app.call(user, Method::POST, &tasks_url(user), Some(body)).await;
            assert_validation(status, &refused, &["body", "parent_id"]);
            let body = json!({"title": format!("task {n}.{round}")});
            let (status, created) = app.call(user, Method::POST, &tasks_url(user), Some(body)).await;
            assert_eq!(
                (status, created["title"].clone()),
                (201, json!(format!("task {n}.{round}")))
            );
        }
    };
    // Polled together in this task (the clients borrow the app): concurrent on the wire.
    let all = futures_util::future::join_all((0..8).map(client));
    tokio::time::timeout(std::time::Duration::from_secs(20), all)
        .await
        .expect("refused writes held the owner");
    let (status, page) = app
        .call(user, Method::GET, &format!("{}?limit=100", tasks_url(user)), None)
        .await;
    assert_eq!((status, page.as_array().map(Vec::len)), (200, Some(80)));
}
