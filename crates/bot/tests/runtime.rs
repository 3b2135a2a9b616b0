//! One active poller across instances: a second instance waits while the lease is held and
//! takes over (from the last processed update) once it lapses, e.g. after a crash.

mod common;

use common::Harness;

#[tokio::test]
async fn a_second_instance_polls_only_after_the_first_ones_lease_lapses() {
    for h in Harness::all().await {
        h.tg.inject_message(61, "/help");
        h.poll().await;
        assert_eq!(h.tg.sent_to(61).len(), 1);
        // A second instance (the first one "crashed": no release).
        let second = Harness::new_bot(&h.app, &h.tg, &h.planner);
        h.tg.inject_message(61, "/help");
        let r = second
            .poll_once(std::time::Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r, None, "the lease is held by the first instance");
        assert_eq!(h.tg.sent_to(61).len(), 1);
        h.app.clock.advance(chrono::Duration::seconds(61));
        let r = second
            .poll_once(std::time::Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r, Some(1), "only the update after the last processed one");
        assert_eq!(h.tg.sent_to(61).len(), 2, "nothing repeated, nothing lost");
        // The first instance is now the one waiting.
        let r = h
            .bot
            .poll_once(std::time::Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r, None);
        h.finish().await;
    }
}
