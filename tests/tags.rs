//! Tags (SPEC §10) on both backends: spelling, bounds, the list filter, the tag routes, and what
//! renames and deletions do to tasks, their ETags and sync.

mod common;

use common::{assert_detail, assert_validation, join_all, status_json, task_url, tasks_url, titles, TestApp, TestUser};
use reqwest::header::ETAG;
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    tags_take_the_first_spelling_and_sort_ignoring_case,
    tag_bounds_are_422_at_body_tags,
    tags_left_out_stay_and_empty_clears,
    tag_filter_needs_every_named_tag,
    tag_list_counts_tags_in_use,
    rename_merges_and_moves_the_tasks,
    delete_takes_the_tag_off_every_task,
    unknown_tags_are_404_and_bad_names_422,
    tags_of_one_user_never_reach_another,
    concurrent_first_uses_agree_on_one_spelling,
);

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let (status, body) = app.call(user, Method::GET, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn etag(app: &TestApp, user: &TestUser, task: &Value) -> String {
    let res = app
        .as_user(user, Method::GET, &task_url(user, task))
        .send()
        .await
        .unwrap();
    res.headers()[ETAG].to_str().unwrap().to_owned()
}

async fn tags_take_the_first_spelling_and_sort_ignoring_case(app: &TestApp) {
    let user = app.signup("spell@example.com").await;
    let first = app
        .create_task(&user, json!({"title": "a", "tags": [" Work ", "errands", "WORK"]}))
        .await;
    assert_eq!(first["tags"], json!(["errands", "Work"]));
    let second = app
        .create_task(&user, json!({"title": "b", "tags": ["work", "Zeta", "alpha"]}))
        .await;
    assert_eq!(
        second["tags"],
        json!(["alpha", "Work", "Zeta"]),
        "the first spelling wins"
    );
    let got = get(app, &user, &task_url(&user, &second)).await;
    assert_eq!(got["tags"], json!(["alpha", "Work", "Zeta"]));
    // A task without tags lists an empty array, never null.
    let plain = app.create_task(&user, json!({"title": "c"})).await;
    assert_eq!(plain["tags"], json!([]));
    assert_eq!(
        (plain["parent_id"].clone(), plain["recurrence"].clone()),
        (Value::Null, Value::Null)
    );
}

async fn tag_bounds_are_422_at_body_tags(app: &TestApp) {
    let user = app.signup("bounds@example.com").await;
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    for bad in [
        json!(null),
        json!("work"),
        json!([1]),
        json!(["a,b"]),
        json!(["   "]),
        json!(["line\nbreak"]),
        json!(["x".repeat(51)]),
        json!(many),
    ] {
        let (status, body) = app
            .call(
                &user,
                Method::POST,
                &tasks_url(&user),
                Some(json!({"title": "t", "tags": bad})),
            )
            .await;
        assert_validation(status, &body, &["body", "tags"]);
    }
    let task = app
        .create_task(&user, json!({"title": "t", "tags": ["x".repeat(50)]}))
        .await;
    for bad in [json!(null), json!(["a,b"])] {
        let (status, body) = app
            .call(
                &user,
                Method::PATCH,
                &task_url(&user, &task),
                Some(json!({"tags": bad})),
            )
            .await;
        assert_validation(status, &body, &["body", "tags"]);
    }
    // Nothing was written by the refused requests.
    let list = get(app, &user, &tasks_url(&user)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        get(app, &user, &task_url(&user, &task)).await["tags"],
        json!(["x".repeat(50)])
    );
}

async fn tags_left_out_stay_and_empty_clears(app: &TestApp) {
    let user = app.signup("clear@example.com").await;
    let task = app
        .create_task(&user, json!({"title": "t", "tags": ["home", "garden"]}))
        .await;
    let (status, body) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"title": "u"})),
        )
        .await;
    assert_eq!((status, body["tags"].clone()), (200, json!(["garden", "home"])));
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &task_url(&user, &task),
            Some(json!({"title": "v", "tags": ["Home", "new"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tags"], json!(["home", "new"]), "a kept tag keeps its spelling");
    let (status, body) = app
        .call(&user, Method::PATCH, &task_url(&user, &task), Some(json!({"tags": []})))
        .await;
    assert_eq!((status, body["tags"].clone()), (200, json!([])));
    assert_eq!(get(app, &user, &format!("/api/{}/tags", user.id)).await, json!([]));
}

async fn tag_filter_needs_every_named_tag(app: &TestApp) {
    let user = app.signup("filter@example.com").await;
    app.create_task(&user, json!({"title": "both", "tags": ["Home", "urgent"]}))
        .await;
    app.create_task(&user, json!({"title": "home only", "tags": ["home"]}))
        .await;
    app.create_task(&user, json!({"title": "none"})).await;
    let res = app
        .as_user(&user, Method::GET, &format!("{}?tag=HOME", tasks_url(&user)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "2");
    assert_eq!(titles(&res.json().await.unwrap()), ["both", "home only"]);
    let both = get(app, &user, &format!("{}?tag=home&tag=Urgent", tasks_url(&user))).await;
    assert_eq!(titles(&both), ["both"]);
    let none = get(app, &user, &format!("{}?tag=nothing", tasks_url(&user))).await;
    assert_eq!(none, json!([]));
    for bad in ["tag=", "tag=a%2Cb", "tag=%20"] {
        let (status, body) = app
            .call(&user, Method::GET, &format!("{}?{bad}", tasks_url(&user)), None)
            .await;
        assert_validation(status, &body, &["query", "tag"]);
    }
}

async fn tag_list_counts_tags_in_use(app: &TestApp) {
    let user = app.signup("count@example.com").await;
    app.create_task(&user, json!({"title": "a", "tags": ["beta", "Alpha"]}))
        .await;
    app.create_task(&user, json!({"title": "b", "tags": ["alpha"]})).await;
    let doomed = app.create_task(&user, json!({"title": "c", "tags": ["gamma"]})).await;
    assert_eq!(
        get(app, &user, &format!("/api/{}/tags", user.id)).await,
        json!([{"name": "Alpha", "count": 2}, {"name": "beta", "count": 1}, {"name": "gamma", "count": 1}])
    );
    let (status, _) = app.call(&user, Method::DELETE, &task_url(&user, &doomed), None).await;
    assert_eq!(status, 204);
    assert_eq!(
        get(app, &user, &format!("/api/{}/tags", user.id)).await,
        json!([{"name": "Alpha", "count": 2}, {"name": "beta", "count": 1}]),
        "a tag no task carries is not listed"
    );
}

async fn rename_merges_and_moves_the_tasks(app: &TestApp) {
    let user = app.signup("rename@example.com").await;
    let a = app.create_task(&user, json!({"title": "a", "tags": ["work"]})).await;
    let b = app
        .create_task(&user, json!({"title": "b", "tags": ["work", "Job"]}))
        .await;
    let c = app.create_task(&user, json!({"title": "c", "tags": ["job"]})).await;
    let untouched = app.create_task(&user, json!({"title": "d", "tags": ["other"]})).await;
    let (a_before, c_before, d_before) = (
        etag(app, &user, &a).await,
        etag(app, &user, &c).await,
        etag(app, &user, &untouched).await,
    );
    let sync = get(app, &user, &format!("/api/{}/sync", user.id)).await;
    let cursor = sync["cursor"].as_str().unwrap().to_owned();

    // Respelling one tag.
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/WORK", user.id),
            Some(json!({"name": "Work"})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"name": "Work", "count": 2})));
    assert_eq!(get(app, &user, &task_url(&user, &a)).await["tags"], json!(["Work"]));
    // Into a tag in use: they merge under its spelling; a task with both keeps one.
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/work", user.id),
            Some(json!({"name": "JOB"})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"name": "Job", "count": 3})));
    let got_a = get(app, &user, &task_url(&user, &a)).await;
    assert_eq!(got_a["tags"], json!(["Job"]));
    assert_ne!(got_a["updated_at"], a["updated_at"], "a renamed tag changes the task");
    assert_eq!(get(app, &user, &task_url(&user, &b)).await["tags"], json!(["Job"]));
    assert_ne!(etag(app, &user, &a).await, a_before);
    assert_eq!(
        etag(app, &user, &c).await,
        c_before,
        "a task that only had the target is unchanged"
    );
    assert_eq!(etag(app, &user, &untouched).await, d_before);
    assert_eq!(
        get(app, &user, &format!("/api/{}/tags", user.id)).await,
        json!([{"name": "Job", "count": 3}, {"name": "other", "count": 1}])
    );
    // Sync reports the changed tasks, in their current state.
    let delta = get(app, &user, &format!("/api/{}/sync?since={cursor}", user.id)).await;
    let mut changed: Vec<&str> = delta["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    changed.sort_unstable();
    assert_eq!(changed, ["a", "b"]);
    assert!(delta["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["tags"] == json!(["Job"])));
    // The new name obeys the tag rules.
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/job", user.id),
            Some(json!({"name": "a,b"})),
        )
        .await;
    assert_validation(status, &body, &["body", "name"]);
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/job", user.id),
            Some(json!({})),
        )
        .await;
    assert_validation(status, &body, &["body", "name"]);
}

async fn delete_takes_the_tag_off_every_task(app: &TestApp) {
    let user = app.signup("deltag@example.com").await;
    let a = app
        .create_task(&user, json!({"title": "a", "tags": ["Café au lait", "keep"]}))
        .await;
    let b = app
        .create_task(&user, json!({"title": "b", "tags": ["café AU lait"]}))
        .await;
    // Percent-decoded and matched ignoring case, beyond ASCII too.
    let (status, body) = app
        .call(
            &user,
            Method::DELETE,
            &format!("/api/{}/tags/CAF%C3%89%20au%20LAIT", user.id),
            None,
        )
        .await;
    assert_eq!((status, body), (204, Value::Null));
    let got_a = get(app, &user, &task_url(&user, &a)).await;
    assert_eq!(got_a["tags"], json!(["keep"]));
    assert_ne!(got_a["updated_at"], a["updated_at"]);
    assert_eq!(get(app, &user, &task_url(&user, &b)).await["tags"], json!([]));
    let (status, body) = app
        .call(
            &user,
            Method::DELETE,
            &format!("/api/{}/tags/caf%C3%A9%20au%20lait", user.id),
            None,
        )
        .await;
    assert_detail(status, &body, 404, "Tag not found");
}

async fn unknown_tags_are_404_and_bad_names_422(app: &TestApp) {
    let user = app.signup("unknown@example.com").await;
    let (status, body) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/ghost", user.id),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_detail(status, &body, 404, "Tag not found");
    let (status, body) = app
        .call(&user, Method::DELETE, &format!("/api/{}/tags/ghost", user.id), None)
        .await;
    assert_detail(status, &body, 404, "Tag not found");
    let long = "x".repeat(51);
    for name in ["a%2Cb", "%20", long.as_str()] {
        let (status, body) = app
            .call(&user, Method::DELETE, &format!("/api/{}/tags/{name}", user.id), None)
            .await;
        assert_validation(status, &body, &["path", "name"]);
    }
}

async fn tags_of_one_user_never_reach_another(app: &TestApp) {
    let alice = app.signup("alice-tags@example.com").await;
    let bob = app.signup("bob-tags@example.com").await;
    app.create_task(&alice, json!({"title": "a", "tags": ["Secret"]})).await;
    let mine = app.create_task(&bob, json!({"title": "b", "tags": ["secret"]})).await;
    assert_eq!(mine["tags"], json!(["secret"]), "spelling is per user");
    // Bob cannot list, rename or delete Alice's tags.
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"name": "x"}))),
        (Method::DELETE, None),
    ] {
        let path = match method {
            Method::GET => format!("/api/{}/tags", alice.id),
            _ => format!("/api/{}/tags/Secret", alice.id),
        };
        let (status, body) = app.call(&bob, method, &path, body).await;
        assert_detail(
            status,
            &body,
            403,
            "Access denied: You can only access your own resources",
        );
    }
    // Bob's own rename leaves Alice's tasks alone.
    let (status, _) = app
        .call(
            &bob,
            Method::PUT,
            &format!("/api/{}/tags/secret", bob.id),
            Some(json!({"name": "open"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        get(app, &alice, &format!("/api/{}/tags", alice.id)).await,
        json!([{"name": "Secret", "count": 1}])
    );
    let filtered = get(app, &bob, &format!("/api/{}/tasks?tag=secret", bob.id)).await;
    assert_eq!(filtered, json!([]));
}

async fn concurrent_first_uses_agree_on_one_spelling(app: &TestApp) {
    let user = app.signup("race-tags@example.com").await;
    let spellings = ["Race", "race", "RACE", "rAcE", "RaCe", "racE"];
    let futures = spellings.iter().map(|s| {
        let req = app
            .as_user(&user, Method::POST, &tasks_url(&user))
            .json(&json!({"title": s, "tags": [s]}));
        async move { status_json(req.send().await.unwrap()).await }
    });
    let answers = join_all(futures).await;
    assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    let list = get(app, &user, &tasks_url(&user)).await;
    let names: std::collections::BTreeSet<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tags"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 1, "one spelling for every task: {names:?}");
    let tags = get(app, &user, &format!("/api/{}/tags", user.id)).await;
    assert_eq!(tags.as_array().unwrap().len(), 1);
    assert_eq!(tags[0]["count"], 6);
}
