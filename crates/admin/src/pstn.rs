//! PSTN gateways and routes: add (input checked, the field at fault named) and delete,
//! each with the change notice a running server needs to rebuild its route table.

use std::net::SocketAddr;

use model::{
    AddressOfRecord, CallClass, Gateway, GatewayTransport, PstnStore, Route, Store, TlsVerify,
};

use crate::{AdminError, Change, ChangeNotice, Done};

/// A gateway as the CLI gives it: text still to check.
#[derive(Debug, Clone, Default)]
pub struct GatewayInput<'a> {
    /// Its name.
    pub name: &'a str,
    /// `IP:PORT`.
    pub address: &'a str,
    /// `udp`, `tcp` or `tls`; None: udp.
    pub transport: Option<&'a str>,
    /// Leading digits to strip.
    pub strip: u32,
    /// Digits to put in front.
    pub prefix: &'a str,
    /// Seconds between probes; None: [`model::DEFAULT_PROBE_SECS`].
    pub probe_secs: Option<u32>,
    /// `verify`, `pin:SHA256` or `skip` (TLS gateways only); None: verify.
    pub tls_verify: Option<&'a str>,
}

/// Adds a gateway.
pub async fn add_gateway(
    store: &dyn PstnStore,
    input: &GatewayInput<'_>,
) -> Result<Done<Gateway>, AdminError> {
    let gateway = gateway_from(input)?;
    store.add_gateway(&gateway).await?;
    let notice = ChangeNotice::Gateway(gateway.name.clone(), Change::Added);
    Ok(Done::new(gateway, vec![notice]))
}

/// Changes the gateway `input.name` (address, transport, strip, prefix, probe), checked
/// as [`add_gateway`] checks; the routes that use it keep it.
pub async fn update_gateway(
    store: &dyn PstnStore,
    input: &GatewayInput<'_>,
) -> Result<Done<Gateway>, AdminError> {
    let gateway = gateway_from(input)?;
    store.update_gateway(&gateway).await?;
    let notice = ChangeNotice::Gateway(gateway.name.clone(), Change::Changed);
    Ok(Done::new(gateway, vec![notice]))
}

/// The gateway `input` describes, every field checked.
fn gateway_from(input: &GatewayInput<'_>) -> Result<Gateway, AdminError> {
    let addr: SocketAddr = input.address.parse().map_err(|_| {
        AdminError::invalid(
            "address",
            format!(
                "{:?} is not IP:PORT (an IP address and a port, e.g. 192.0.2.10:5060)",
                input.address
            ),
        )
    })?;
    if addr.port() == 0 {
        return Err(AdminError::invalid("address", "port 0 is not a port"));
    }
    let transport = match input.transport {
        None => GatewayTransport::Udp,
        Some(t) => GatewayTransport::parse(t)
            .ok_or_else(|| AdminError::invalid("transport", format!("{t:?}: udp, tcp or tls")))?,
    };
    let tls_verify = match input.tls_verify {
        None => TlsVerify::Verify,
        Some(v) => TlsVerify::parse(v)
            .map_err(|why| AdminError::invalid("tls_verify", format!("tls_verify: {why}")))?,
    };
    if tls_verify != TlsVerify::Verify && transport != GatewayTransport::Tls {
        return Err(AdminError::invalid(
            "tls_verify",
            format!("tls_verify: {tls_verify} needs transport tls"),
        ));
    }
    let gateway = Gateway {
        name: input.name.to_owned(),
        addr,
        transport,
        strip: input.strip,
        prefix: input.prefix.to_owned(),
        probe_secs: input.probe_secs.unwrap_or(model::DEFAULT_PROBE_SECS),
        tls_verify,
    };
    gateway.check()?;
    Ok(gateway)
}

/// Deletes a gateway no route uses.
pub async fn delete_gateway(store: &dyn PstnStore, name: &str) -> Result<Done, AdminError> {
    store.delete_gateway(name).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Gateway(name.to_owned(), Change::Removed)],
    ))
}

/// Adds a route: numbers starting with `prefix` go to `gateways` (comma-separated, tried in
/// order) for callers of `class` and above (None: national), from `domain` (None: every
/// domain).
pub async fn add_route(
    store: &dyn PstnStore,
    prefix: &str,
    gateways: &str,
    class: Option<&str>,
    domain: Option<&str>,
) -> Result<Done<Route>, AdminError> {
    let class = match class {
        None => CallClass::National,
        Some(c) => CallClass::parse(c).ok_or_else(|| {
            AdminError::invalid(
                "class",
                format!("{c:?}: local, national, international or premium"),
            )
        })?,
    };
    let route = Route {
        prefix: prefix.to_owned(),
        domain: domain.map(str::to_ascii_lowercase),
        gateways: gateways.split(',').map(|g| g.trim().to_owned()).collect(),
        class,
    };
    route.check()?;
    store.add_route(&route).await?;
    let notice = ChangeNotice::Route(route.prefix.clone(), Change::Added);
    Ok(Done::new(route, vec![notice]))
}

/// Sets `user`'s permission class (`local`, `national`, `international`, `premium`).
pub async fn set_class(
    store: &dyn Store,
    user: &AddressOfRecord,
    class: &str,
) -> Result<Done<CallClass>, AdminError> {
    let class = CallClass::parse(class).ok_or_else(|| {
        AdminError::invalid(
            "class",
            format!("{class:?}: local, national, international or premium"),
        )
    })?;
    if store.subscriber(user).await?.is_none() {
        return Err(AdminError::not_found(
            "user",
            format!("user {user} not found"),
        ));
    }
    store
        .set_setting(user, model::CLASS, class.as_str())
        .await?;
    Ok(Done::new(
        class,
        vec![ChangeNotice::Settings(user.clone(), Change::Changed)],
    ))
}

/// Makes the DID `alias` the caller ID of the user it reaches: calls of that user to a
/// gateway carry it in From and P-Asserted-Identity.
pub async fn set_caller_id(
    store: &dyn Store,
    alias: &AddressOfRecord,
) -> Result<Done<AddressOfRecord>, AdminError> {
    let Some(user) = store.resolve_alias(alias).await? else {
        return Err(AdminError::not_found(
            "alias",
            format!("alias {alias} not found"),
        ));
    };
    store
        .set_setting(&user, model::CALLER_ID, &alias.user)
        .await?;
    Ok(Done::new(
        user.clone(),
        vec![ChangeNotice::Settings(user, Change::Changed)],
    ))
}

/// Deletes the route of `prefix` (for `domain`; None: the every-domain route).
pub async fn delete_route(
    store: &dyn PstnStore,
    prefix: &str,
    domain: Option<&str>,
) -> Result<Done, AdminError> {
    let domain = domain.map(str::to_ascii_lowercase);
    store.delete_route(prefix, domain.as_deref()).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Route(prefix.to_owned(), Change::Removed)],
    ))
}

/// Trusts `cidr` (`ADDRESS[/PREFIX]`): its requests are not challenged; `gateway` names
/// the gateway it is, when it is one.
pub async fn add_trusted(
    store: &dyn PstnStore,
    cidr: &str,
    gateway: Option<&str>,
) -> Result<Done<String>, AdminError> {
    let cidr = model::check_cidr(cidr)?;
    store
        .add_trusted(&model::TrustedPeer {
            cidr: cidr.clone(),
            gateway: gateway.map(str::to_owned),
        })
        .await?;
    let notice = ChangeNotice::Trusted(cidr.clone(), Change::Added);
    Ok(Done::new(cidr, vec![notice]))
}

/// Stops trusting `cidr`.
pub async fn delete_trusted(store: &dyn PstnStore, cidr: &str) -> Result<Done, AdminError> {
    let cidr = model::check_cidr(cidr)?;
    store.delete_trusted(&cidr).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::Trusted(cidr, Change::Removed)],
    ))
}

/// Adds a dial-plan rule to a served domain: numbers its users dial that match `pattern`
/// become `replacement` before routing. A bad expression is refused, naming the error.
pub async fn add_dial_rule<S: Store + PstnStore>(
    store: &S,
    domain: &str,
    pattern: &str,
    replacement: &str,
    priority: i32,
) -> Result<Done, AdminError> {
    let domain = crate::check_domain(domain)?;
    crate::check_served(store, &domain).await?;
    let rule = model::DialRule {
        domain: domain.clone(),
        priority,
        pattern: pattern.to_owned(),
        replacement: replacement.to_owned(),
    };
    rule.check()?;
    PstnStore::add_dial_rule(store, &rule).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::DialPlan(domain, Change::Changed)],
    ))
}

/// Deletes the dial-plan rule of `pattern` in `domain`.
pub async fn delete_dial_rule(
    store: &dyn PstnStore,
    domain: &str,
    pattern: &str,
) -> Result<Done, AdminError> {
    let domain = domain.to_ascii_lowercase();
    store.delete_dial_rule(&domain, pattern).await?;
    Ok(Done::new(
        (),
        vec![ChangeNotice::DialPlan(domain, Change::Changed)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MemoryStore;

    #[tokio::test]
    async fn bad_input_names_the_field() {
        let s = MemoryStore::new();
        let mut g = GatewayInput {
            name: "a",
            address: "carrier.example:5060",
            ..GatewayInput::default()
        };
        let e = add_gateway(&s, &g).await.unwrap_err();
        assert_eq!(e.field(), Some("address"));
        g.address = "192.0.2.1:5060";
        g.transport = Some("sctp");
        assert_eq!(
            add_gateway(&s, &g).await.unwrap_err().field(),
            Some("transport")
        );
        g.transport = Some("TCP");
        g.tls_verify = Some("skip");
        assert_eq!(
            add_gateway(&s, &g).await.unwrap_err().field(),
            Some("tls_verify"),
            "skip without tls"
        );
        g.tls_verify = Some("pin:12:34");
        g.transport = Some("tls");
        assert_eq!(
            add_gateway(&s, &g).await.unwrap_err().field(),
            Some("tls_verify")
        );
        g.tls_verify = None;
        g.transport = Some("TCP");
        let done = add_gateway(&s, &g).await.unwrap();
        assert_eq!(done.result.tls_verify, TlsVerify::Verify);
        assert_eq!(done.result.probe_secs, model::DEFAULT_PROBE_SECS);
        let e = add_route(&s, "49", "a", Some("gold"), None)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("class"));
        let done = add_route(&s, "49", "a", None, Some("Example.com"))
            .await
            .unwrap();
        assert_eq!(done.result.domain.as_deref(), Some("example.com"));
        assert!(add_route(&s, "4x", "a", None, None).await.is_err());
        delete_route(&s, "49", Some("example.com")).await.unwrap();
        assert_eq!(
            add_trusted(&s, "10.1.2.3/33", None)
                .await
                .unwrap_err()
                .field(),
            Some("cidr")
        );
        assert_eq!(
            add_trusted(&s, "10.1.2.3", Some("a")).await.unwrap().result,
            "10.1.2.3/32"
        );
        delete_trusted(&s, "10.1.2.3").await.unwrap();
        g.address = "192.0.2.2:5070";
        let done = update_gateway(&s, &g).await.unwrap();
        assert_eq!(done.result.addr.port(), 5070);
        assert_eq!(s.gateways().await.unwrap()[0].addr.port(), 5070);
        g.name = "nobody";
        assert_eq!(update_gateway(&s, &g).await.unwrap_err().http_status(), 404);
        delete_gateway(&s, "a").await.unwrap();
    }
}
