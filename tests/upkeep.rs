//! Upkeep: expired idempotency keys and old tombstones are purged, on both backends.

mod common;

use common::{status_json, TestApp};
use reqwest::Method;
use serde_json::json;
use taskapi::domain::Timestamp;

backend_tests!(purge_removes_expired_keys_and_old_tombstones);

async fn sync(app: &TestApp, user: &common::TestUser, cursor: &str) -> serde_json::Value {
    let path = format!("/api/{}/sync?since={cursor}", user.id);
    let (status, body) = status_json(app.as_user(user, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn purge_removes_expired_keys_and_old_tombstones(app: &TestApp) {
    let user = app.signup("upkeep@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let (_, start) = status_json(
        app.as_user(&user, Method::GET, &format!("/api/{}/sync", user.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let cursor = start["cursor"].as_str().unwrap().to_owned();

    let res = app
        .as_user(&user, Method::POST, &tasks)
        .header("Idempotency-Key", "upkeep-1")
        .json(&json!({"title": "short-lived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let task: serde_json::Value = res.json().await.unwrap();
    let res = app
        .as_user(
            &user,
            Method::DELETE,
            &format!("{tasks}/{}", task["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // Nothing is old yet: nothing goes.
    let now = Timestamp::now();
    let long_ago = Timestamp::from_micros(now.as_micros() - 3_600_000_000).unwrap();
    assert_eq!(app.store.purge(now, long_ago).await.unwrap(), 0);
    assert_eq!(sync(app, &user, &cursor).await["deleted"]["tasks"], json!([task["id"]]));

    // A day later the key has expired, and a retention of under a day drops the tombstone.
    let tomorrow = Timestamp::from_micros(now.as_micros() + 86_400_000_000 + 1).unwrap();
    assert_eq!(
        app.store.purge(tomorrow, tomorrow).await.unwrap(),
        2,
        "one key, one tombstone"
    );
    assert_eq!(sync(app, &user, &cursor).await["deleted"]["tasks"], json!([]));

    // The key is free again: the same request runs anew.
    let res = app
        .as_user(&user, Method::POST, &tasks)
        .header("Idempotency-Key", "upkeep-1")
        .json(&json!({"title": "short-lived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let again: serde_json::Value = res.json().await.unwrap();
    assert_ne!(again["id"], task["id"]);
}
