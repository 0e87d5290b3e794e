//! Conditional requests and idempotent retries (SPEC §8) on both backends.

mod common;

use common::{assert_detail, assert_validation, status_json, TestApp, TestUser};
use reqwest::header::{HeaderValue, ETAG};
use reqwest::{Method, Response};
use serde_json::{json, Value};

backend_tests!(
    single_objects_carry_strong_etags,
    if_none_match_answers_304,
    if_match_guards_every_write,
    deleting_a_category_moves_its_tasks_etags,
    concurrent_writes_with_one_etag_give_one_412,
    lists_carry_weak_etags,
    idempotency_key_replays_the_first_answer,
    idempotency_key_rules,
    retried_toggles_flip_once_per_key,
);

fn task_url(user: &TestUser, id: &Value) -> String {
    format!("/api/{}/tasks/{}", user.id, id.as_str().unwrap())
}

fn etag_of(res: &Response) -> String {
    let tag = res.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
        "strong ETag: {tag}"
    );
    tag
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let res = req.send().await.unwrap();
    let tag = res.headers().get(ETAG).map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = status_json(res).await;
    (status, tag, body)
}

async fn get_task(app: &TestApp, user: &TestUser, id: &Value) -> (String, Value) {
    let res = app.get_ok(user, &task_url(user, id)).await;
    let tag = etag_of(&res);
    (tag, res.json().await.unwrap())
}

async fn single_objects_carry_strong_etags(app: &TestApp) {
    let user = app.signup("etag@example.com").await;
    let res = app
        .as_user(&user, Method::POST, &format!("/api/{}/tasks", user.id))
        .json(&json!({"title": "tagged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created_tag = etag_of(&res);
    let task: Value = res.json().await.unwrap();
    let (tag, body) = get_task(app, &user, &task["id"]).await;
    assert_eq!(
        (&tag, &body),
        (&created_tag, &task),
        "GET shows the state and tag the write made"
    );

    // An empty PATCH changes nothing: same body, same tag.
    let (status, same_tag, same) = send(
        app.as_user(&user, Method::PATCH, &task_url(&user, &task["id"]))
            .json(&json!({})),
    )
    .await;
    assert_eq!(
        (status, same_tag.as_deref(), &same),
        (200, Some(created_tag.as_str()), &task)
    );

    // Every change moves it, and each write's tag is the one GET then shows.
    let (status, patched_tag, patched) = send(
        app.as_user(&user, Method::PATCH, &task_url(&user, &task["id"]))
            .json(&json!({"title": "renamed"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(patched_tag.as_deref(), Some(created_tag.as_str()));
    assert_eq!(patched["title"], "renamed");
    let (status, put_tag, _) = send(
        app.as_user(&user, Method::PUT, &task_url(&user, &task["id"]))
            .json(&json!({"title": "put"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(put_tag, patched_tag);
    let (status, toggled_tag, toggled) = send(app.as_user(
        &user,
        Method::PATCH,
        &format!("{}/complete", task_url(&user, &task["id"])),
    ))
    .await;
    assert_eq!((status, &toggled["completed"]), (200, &json!(true)));
    assert_ne!(toggled_tag, put_tag);
    assert_eq!(get_task(app, &user, &task["id"]).await.0, toggled_tag.unwrap());

    // Categories too.
    let res = app
        .as_user(&user, Method::POST, &format!("/api/{}/categories", user.id))
        .json(&json!({"name": "Work"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let category_tag = etag_of(&res);
    let category: Value = res.json().await.unwrap();
    let url = format!("/api/{}/categories/{}", user.id, category["id"].as_str().unwrap());
    let (status, tag, _) = send(app.as_user(&user, Method::GET, &url)).await;
    assert_eq!((status, tag.as_deref()), (200, Some(category_tag.as_str())));
    let (status, tag, _) = send(
        app.as_user(&user, Method::PATCH, &url)
            .json(&json!({"color": "#000000"})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(tag.is_some_and(|t| t != category_tag && t.starts_with('"')));
}

async fn if_none_match_answers_304(app: &TestApp) {
    let user = app.signup("inm@example.com").await;
    let task = app.create_task(&user, json!({"title": "cached"})).await;
    let (tag, _) = get_task(app, &user, &task["id"]).await;
    for value in [tag.as_str(), "*", &format!("\"nope\", {tag}")] {
        let res = app
            .as_user(&user, Method::GET, &task_url(&user, &task["id"]))
            .header("If-None-Match", value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304, "If-None-Match: {value}");
        assert_eq!(res.headers()[ETAG].to_str().unwrap(), tag);
        assert!(res.bytes().await.unwrap().is_empty(), "a 304 has no body");
    }
    let res = app
        .as_user(&user, Method::GET, &task_url(&user, &task["id"]))
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), task);
    // Someone else's task is still a 404, whatever the precondition.
    let other = app.signup("inm-other@example.com").await;
    let (status, _, body) = send(
        app.as_user(
            &other,
            Method::GET,
            &format!("/api/{}/tasks/{}", other.id, task["id"].as_str().unwrap()),
        )
        .header("If-None-Match", "*"),
    )
    .await;
    assert_detail(status, &body, 404, "Task not found");
}

async fn if_match_guards_every_write(app: &TestApp) {
    let user = app.signup("im@example.com").await;
    let task = app.create_task(&user, json!({"title": "guarded"})).await;
    let url = task_url(&user, &task["id"]);
    let (tag, _) = get_task(app, &user, &task["id"]).await;
    let stale = "\"999999\"";

    for (method, path, body) in [
        (Method::PATCH, url.clone(), Some(json!({"title": "lost"}))),
        (Method::PUT, url.clone(), Some(json!({"title": "lost"}))),
        (Method::PATCH, format!("{url}/complete"), None),
        (Method::DELETE, url.clone(), None),
    ] {
        let mut req = app.as_user(&user, method.clone(), &path).header("If-Match", stale);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let (status, _, answer) = send(req).await;
        assert_detail(status, &answer, 412, "Precondition failed: the task has changed");
        assert_eq!(
            get_task(app, &user, &task["id"]).await,
            (tag.clone(), task.clone()),
            "{method} {path} wrote nothing"
        );

        // Malformed: 422 on the header, nothing written.
        for bad in ["abc", "\"unterminated", "W/abc", "\"1\" \"2\""] {
            let mut req = app.as_user(&user, method.clone(), &path).header("If-Match", bad);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let (status, _, answer) = send(req).await;
            assert_validation(status, &answer, &["header", "If-Match"]);
        }
        assert_eq!(get_task(app, &user, &task["id"]).await.1, task);
    }
    // ETags compare as strings: another spelling of the same number is another tag.
    let version = tag.trim_matches('"');
    for other in [format!("\"+{version}\""), format!("\"0{version}\"")] {
        let (status, _, _) = send(
            app.as_user(&user, Method::PATCH, &url)
                .header("If-Match", &other)
                .json(&json!({"title": "respelled"})),
        )
        .await;
        assert_eq!(status, 412, "If-Match: {other}");
    }
    assert_eq!(get_task(app, &user, &task["id"]).await.1, task);
    // A weak tag never matches a strong one.
    let (status, _, _) = send(
        app.as_user(&user, Method::PATCH, &url)
            .header("If-Match", format!("W/{tag}"))
            .json(&json!({"title": "weak"})),
    )
    .await;
    assert_eq!(status, 412);

    // A list with the current tag matches; the answer carries the new tag.
    let (status, new_tag, body) = send(
        app.as_user(&user, Method::PATCH, &url)
            .header("If-Match", format!("\"1234567\", {tag}"))
            .json(&json!({"title": "won"})),
    )
    .await;
    assert_eq!((status, &body["title"]), (200, &json!("won")));
    let new_tag = new_tag.unwrap();
    // The old tag is now stale; `*` matches whatever is current.
    let (status, _, _) = send(
        app.as_user(&user, Method::PATCH, &url)
            .header("If-Match", &tag)
            .json(&json!({"title": "late"})),
    )
    .await;
    assert_eq!(status, 412);
    let (status, star_tag, _) = send(
        app.as_user(&user, Method::PATCH, &format!("{url}/complete"))
            .header("If-Match", "*"),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(star_tag.as_deref(), Some(new_tag.as_str()));

    // A missing or foreign id is a 404 whatever the precondition.
    let missing = format!("/api/{}/tasks/{}", user.id, uuid::Uuid::now_v7());
    let (status, _, body) = send(app.as_user(&user, Method::DELETE, &missing).header("If-Match", "*")).await;
    assert_detail(status, &body, 404, "Task not found");
    let other = app.signup("im-other@example.com").await;
    let foreign = format!("/api/{}/tasks/{}", other.id, task["id"].as_str().unwrap());
    let (status, _, body) = send(
        app.as_user(&other, Method::DELETE, &foreign)
            .header("If-Match", star_tag.as_deref().unwrap()),
    )
    .await;
    assert_detail(status, &body, 404, "Task not found");

    // DELETE with the current tag goes through.
    let (status, _, _) = send(
        app.as_user(&user, Method::DELETE, &url)
            .header("If-Match", star_tag.unwrap()),
    )
    .await;
    assert_eq!(status, 204);

    // Categories say so in their own words.
    let category = app.create_category(&user, "Home").await;
    let curl = format!("/api/{}/categories/{}", user.id, category["id"].as_str().unwrap());
    for method in [Method::PATCH, Method::DELETE] {
        let mut req = app.as_user(&user, method, &curl).header("If-Match", stale);
        req = req.json(&json!({"name": "Away"}));
        let (status, _, body) = send(req).await;
        assert_detail(status, &body, 412, "Precondition failed: the category has changed");
    }
    let (status, _, body) = send(app.as_user(&user, Method::GET, &curl)).await;
    assert_eq!((status, &body["name"]), (200, &json!("Home")));
}

async fn deleting_a_category_moves_its_tasks_etags(app: &TestApp) {
    let user = app.signup("cat-etag@example.com").await;
    let category = app.create_category(&user, "Errands").await;
    let task = app
        .create_task(&user, json!({"title": "post", "category_id": category["id"]}))
        .await;
    let (before, _) = get_task(app, &user, &task["id"]).await;
    let url = format!("/api/{}/categories/{}", user.id, category["id"].as_str().unwrap());
    let (status, _, _) = send(app.as_user(&user, Method::DELETE, &url)).await;
    assert_eq!(status, 204);
    let (after, now) = get_task(app, &user, &task["id"]).await;
    assert_ne!(after, before, "the task changed under its category's deletion");
    assert_eq!(now["category_id"], Value::Null);
    assert!(now["updated_at"].as_str().unwrap() > task["updated_at"].as_str().unwrap());
    let (status, _, _) = send(
        app.as_user(&user, Method::PATCH, &task_url(&user, &task["id"]))
            .header("If-Match", &before)
            .json(&json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 412, "the old tag no longer matches");
}

async fn concurrent_writes_with_one_etag_give_one_412(app: &TestApp) {
    let user = app.signup("race@example.com").await;
    let task = app.create_task(&user, json!({"title": "raced"})).await;
    let url = task_url(&user, &task["id"]);
    for round in 0..5 {
        let (tag, _) = get_task(app, &user, &task["id"]).await;
        let a = app
            .as_user(&user, Method::PATCH, &url)
            .header("If-Match", &tag)
            .json(&json!({"title": format!("a{round}")}))
            .send();
        let b = app
            .as_user(&user, Method::PATCH, &url)
            .header("If-Match", &tag)
            .json(&json!({"title": format!("b{round}")}))
            .send();
        let (a, b) = tokio::join!(a, b);
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        let winner: Value = if a.status() == 200 {
            a.json().await.unwrap()
        } else {
            b.json().await.unwrap()
        };
        assert_eq!(get_task(app, &user, &task["id"]).await.1["title"], winner["title"]);
    }
}

async fn lists_carry_weak_etags(app: &TestApp) {
    let user = app.signup("list-etag@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let categories = format!("/api/{}/categories", user.id);
    let tags = format!("/api/{}/tags", user.id);
    app.create_task(&user, json!({"title": "one", "tags": ["home"]})).await;
    let list_tag = |res: &Response| {
        let tag = res.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(tag.starts_with("W/\""), "weak list ETag: {tag}");
        tag
    };
    for path in [tasks.clone(), categories.clone(), tags.clone()] {
        let res = app.as_user(&user, Method::GET, &path).send().await.unwrap();
        let tag = list_tag(&res);
        let res = app
            .as_user(&user, Method::GET, &path)
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304, "{path}");
        assert_eq!(res.headers()[ETAG].to_str().unwrap(), tag);
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let res = app.as_user(&user, Method::GET, &tasks).send().await.unwrap();
    let all = list_tag(&res);
    let res = app
        .as_user(&user, Method::GET, &format!("{tasks}?completed=true"))
        .send()
        .await
        .unwrap();
    assert_ne!(list_tag(&res), all, "another query, another tag");
    let res = app.as_user(&user, Method::GET, &categories).send().await.unwrap();
    let categories_tag = list_tag(&res);
    let res = app.as_user(&user, Method::GET, &tags).send().await.unwrap();
    let tags_tag = list_tag(&res);

    // Any write moves both lists' tags.
    let task = app.create_task(&user, json!({"title": "two"})).await;
    let res = app
        .as_user(&user, Method::GET, &tasks)
        .header("If-None-Match", &all)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let after_create = list_tag(&res);
    assert_ne!(after_create, all);
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 2);
    let (status, _, _) = send(
        app.as_user(&user, Method::PATCH, &task_url(&user, &task["id"]))
            .json(&json!({"priority": "high"})),
    )
    .await;
    assert_eq!(status, 200);
    let res = app
        .as_user(&user, Method::GET, &tasks)
        .header("If-None-Match", &after_create)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "an update changes the list");
    app.create_category(&user, "New").await;
    let res = app
        .as_user(&user, Method::GET, &categories)
        .header("If-None-Match", &categories_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 1);

    // Renaming a tag moves the tag list's ETag; the answer under the new one is the new name.
    let (status, _, _) = send(
        app.as_user(&user, Method::PUT, &format!("{tags}/home"))
            .json(&json!({"name": "house"})),
    )
    .await;
    assert_eq!(status, 200);
    let res = app
        .as_user(&user, Method::GET, &tags)
        .header("If-None-Match", &tags_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a rename changes the tag list");
    assert_ne!(list_tag(&res), tags_tag);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!([{"name": "house", "count": 1}])
    );
}

async fn count_tasks(app: &TestApp, user: &TestUser) -> usize {
    let res = app
        .as_user(user, Method::GET, &format!("/api/{}/tasks", user.id))
        .send()
        .await
        .unwrap();
    res.json::<Vec<Value>>().await.unwrap().len()
}

async fn idempotency_key_replays_the_first_answer(app: &TestApp) {
    let user = app.signup("idem@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let first = app
        .as_user(&user, Method::POST, &tasks)
        .header("Idempotency-Key", "create-1")
        .header("content-type", "application/json")
        .body(r#"{"title": "once", "priority": "high"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (location, tag) = (first.headers()["location"].clone(), first.headers()[ETAG].clone());
    let first_body = first.bytes().await.unwrap();

    let retry = app
        .as_user(&user, Method::POST, &tasks)
        .header("Idempotency-Key", "create-1")
        .header("content-type", "application/json")
        .body(r#"{ "priority":"high",   "title":"once" }"#)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()[ETAG], tag);
    assert_eq!(retry.headers()["content-type"], "application/json");
    assert_eq!(retry.bytes().await.unwrap(), first_body, "byte for byte");
    assert_eq!(count_tasks(app, &user).await, 1, "the retry wrote nothing");

    // Categories too.
    let categories = format!("/api/{}/categories", user.id);
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let res = app
            .as_user(&user, Method::POST, &categories)
            .header("Idempotency-Key", "cat-1")
            .json(&json!({"name": "Once"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "a replay, not a 409 for the taken name");
        bodies.push(res.bytes().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);

    // A toggle replayed does not flip again.
    let task: Value = serde_json::from_slice(&first_body).unwrap();
    let toggle = format!("{}/complete", task_url(&user, &task["id"]));
    for _ in 0..3 {
        let (status, _, body) = send(
            app.as_user(&user, Method::PATCH, &toggle)
                .header("Idempotency-Key", "flip-1"),
        )
        .await;
        assert_eq!((status, &body["completed"]), (200, &json!(true)));
    }
    assert_eq!(get_task(app, &user, &task["id"]).await.1["completed"], true);

    // Keys of different users never meet.
    let other = app.signup("idem-other@example.com").await;
    let res = app
        .as_user(&other, Method::POST, &format!("/api/{}/tasks", other.id))
        .header("Idempotency-Key", "create-1")
        .json(&json!({"title": "once", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(res.json::<Value>().await.unwrap()["user_id"], json!(other.id));
}

async fn idempotency_key_rules(app: &TestApp) {
    let user = app.signup("idem-rules@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let post = |key: HeaderValue, body: Value| {
        app.as_user(&user, Method::POST, &tasks)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };

    let (status, _) = status_json(
        post(HeaderValue::from_static("k"), json!({"title": "a"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    // Another body, or another path, with the same key.
    let (status, body) = status_json(
        post(HeaderValue::from_static("k"), json!({"title": "b"}))
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &body, &["header", "Idempotency-Key"]);
    assert_eq!(
        body["detail"][0]["msg"],
        "Idempotency-Key reused with a different request"
    );
    let res = app
        .as_user(&user, Method::POST, &format!("/api/{}/categories", user.id))
        .header("Idempotency-Key", "k")
        .json(&json!({"name": "a"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_validation(status, &body, &["header", "Idempotency-Key"]);
    assert_eq!(count_tasks(app, &user).await, 1);

    // A failed first answer is not kept: the retry runs.
    let (status, _) = status_json(
        post(HeaderValue::from_static("fails-first"), json!({"title": ""}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = status_json(
        post(HeaderValue::from_static("fails-first"), json!({"title": "fixed"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["title"]), (201, &json!("fixed")));

    // Bad keys: 422 on the header, nothing written.
    let too_long = HeaderValue::from_str(&"k".repeat(256)).unwrap();
    for bad in [
        HeaderValue::from_static(""),
        too_long,
        HeaderValue::from_bytes("ké".as_bytes()).unwrap(),
    ] {
        let (status, body) = status_json(post(bad.clone(), json!({"title": "never"})).await.unwrap()).await;
        assert_validation(status, &body, &["header", "Idempotency-Key"]);
    }
    assert_eq!(count_tasks(app, &user).await, 2);
    let (status, _) = status_json(
        post(
            HeaderValue::from_str(&"k".repeat(255)).unwrap(),
            json!({"title": "longest"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "255 printable characters are a key");
}

async fn retried_toggles_flip_once_per_key(app: &TestApp) {
    let user = app.signup("idem-race@example.com").await;
    let task = app.create_task(&user, json!({"title": "flipped"})).await;
    let toggle = format!("{}/complete", task_url(&user, &task["id"]));
    let keys: Vec<String> = (0..9).map(|i| format!("race-{i}")).collect();
    let sends = keys.iter().chain(keys.iter()).map(|k| {
        let req = app
            .as_user(&user, Method::PATCH, &toggle)
            .header("Idempotency-Key", k.as_str());
        tokio::spawn(async move {
            let res = req.send().await.unwrap();
            let replayed = res.headers().contains_key("idempotent-replayed");
            (res.status().as_u16(), replayed)
        })
    });
    let handles: Vec<_> = sends.collect();
    let mut fresh = 0;
    for h in handles {
        match h.await.unwrap() {
            (200, false) => fresh += 1,
            (200, true) | (409, _) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(fresh, 9, "one write per key");
    // After the dust settles, every key replays.
    for k in &keys {
        let res = app
            .as_user(&user, Method::PATCH, &toggle)
            .header("Idempotency-Key", k.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["idempotent-replayed"], "true");
    }
    assert_eq!(
        get_task(app, &user, &task["id"]).await.1["completed"],
        true,
        "nine flips"
    );
}

#[tokio::test]
async fn idempotency_keys_expire_after_their_ttl() {
    let app = TestApp::start_with(
        common::Backend::Sqlite,
        &[("IDEMPOTENCY_TTL", "1s")],
        axum::Router::new(),
    )
    .await
    .unwrap();
    let user = app.signup("ttl@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);
    let post = || {
        app.as_user(&user, Method::POST, &tasks)
            .header("Idempotency-Key", "short")
            .json(&json!({"title": "t"}))
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 201);
    assert_eq!(post().await.unwrap().headers()["idempotent-replayed"], "true");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let res = post().await.unwrap();
    assert_eq!(res.status(), 201);
    assert!(
        res.headers().get("idempotent-replayed").is_none(),
        "expired: runs again"
    );
    assert_eq!(count_tasks(&app, &user).await, 2);
    app.stop().await;
}
