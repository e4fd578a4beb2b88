//! What the server does with its store before the core loop starts: loading the
//! directory (also on every full reload, `notices.rs`), seeding the demo domain and the
//! first portal admin on an empty database, telling the proxy which users have messages
//! waiting and which subscriptions it holds; and how a database URL is written in logs.

use model::{AddressOfRecord, Store};
use proxy::StaticDirectory;
use storage::SqlStore;

/// The stores the server reads: provisioning and voicemail (one database).
pub trait ServerStore: Store + model::VoicemailStore {}
impl<T: Store + model::VoicemailStore> ServerStore for T {}

/// Reloads domains, users, aliases, call-service settings and enabled mailboxes from the
/// store into the proxy's directory.
pub async fn reload_directory(
    store: &dyn ServerStore,
    dir: &StaticDirectory,
) -> anyhow::Result<()> {
    let domains = store.domains().await?;
    let users = store.subscribers(None).await?;
    let aliases = store
        .aliases(None)
        .await?
        .into_iter()
        .map(|a| (a.alias, a.target));
    dir.replace(domains, users, aliases);
    dir.replace_settings(model::UserSettings::group(store.all_settings().await?));
    dir.replace_watcher_rules(store.presence_rules(None).await?);
    dir.replace_voicemail(
        store
            .mailboxes()
            .await?
            .iter()
            .filter_map(|m| Some((m.aor.clone(), crate::notices::voicemail_route(m)?))),
    );
    Ok(())
}

/// Creates the demo domain and users on an empty database.
pub async fn seed_demo(store: &SqlStore) -> anyhow::Result<()> {
    if !store.domains().await?.is_empty() {
        return Ok(());
    }
    let domain = "switchboard.local";
    store.add_domain(domain).await?;
    for user in ["1000", "1001", "1002", "1003"] {
        let password = format!("demo-{user}");
        let sub =
            crate::cli::subscriber_with_password(&AddressOfRecord::new(user, domain), &password);
        store.add_subscriber(&sub).await?;
    }
    tracing::warn!(
        domain,
        "empty database: created the demo domain with users 1000-1003 (passwords demo-1000 ...); \
         remove them with `switchboard domain del {domain}` before going live"
    );
    Ok(())
}

/// The demo's first portal admin, `admin` with a random password printed once, when no
/// portal account exists yet.
pub async fn seed_portal_admin(store: &SqlStore) -> anyhow::Result<()> {
    use model::PortalStore as _;
    if store.portal_account_count().await? > 0 {
        return Ok(());
    }
    let password = admin::generate_password();
    let pw = password.clone();
    admin::add_portal_account(store, "admin", model::PortalRole::Admin, move || Ok(pw)).await?;
    tracing::warn!(
        "no portal account: created the portal admin `admin` with the one-time password \
         {password} (shown only now; add your own with `switchboard admin add NAME`)"
    );
    Ok(())
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Tells the proxy what it keeps in the store across restarts: the users with instant
/// messages waiting (fetched at their next REGISTER), how many messages there are, and the
/// live dialog and message-waiting subscriptions (a refresh after the restart gets 200).
pub async fn restore_notifier_state(
    store: &SqlStore,
    proxy: &mut proxy::Proxy,
    wall: u64,
) -> anyhow::Result<()> {
    use model::{ImStore as _, SubscriptionStore as _};
    for aor in store.instant_message_recipients().await? {
        proxy.messages_waiting(&aor);
    }
    proxy.set_messages_stored(store.instant_message_count().await?);
    let subs = store.live_subscriptions(wall).await?;
    let kept = subs.len();
    let restored = proxy.restore_subscriptions(std::time::Duration::ZERO, wall, subs);
    tracing::info!(count = restored, kept, "subscriptions restored");
    Ok(())
}
