//! The `gateways` and `pstn_routes` tables (migration 0005; a gateway's `tls_verify`:
//! 0008): PSTN gateways and the
//! routes that lead to them. A route's domain is stored as `''` when it serves every
//! domain; its gateways as their names, comma-separated, in the order they are tried.
//! A gateway a route uses cannot be deleted. `trusted_peers`: addresses whose requests
//! are not challenged (gateway `''`: none).

use futures_util::TryStreamExt;
use model::{CallClass, Gateway, GatewayTransport, Route, StoreError, TlsVerify, TrustedPeer};
use sqlx::Row;

use crate::db::{backend_err, str_arg, text, violation, Arg, Violation};
use crate::SqlStore;

const SELECT_GATEWAYS: &str =
    "SELECT name, address, transport, prefix, tls_verify, strip, probe_secs FROM gateways \
     ORDER BY name";

pub(crate) async fn gateways(s: &SqlStore) -> Result<Vec<Gateway>, StoreError> {
    let rows: Vec<(Vec<String>, i64, i64)> = with_pool!(&s.pool, p => {
        sqlx::query(SELECT_GATEWAYS)
            .fetch(p)
            .and_then(|r| {
                let row = (0..5)
                    .map(|i| text(&r, i))
                    .collect::<Result<Vec<String>, _>>()
                    .and_then(|t| Ok((t, r.try_get::<i64, _>(5)?, r.try_get::<i64, _>(6)?)));
                std::future::ready(row)
            })
            .try_collect()
            .await
    })
    .map_err(backend_err)?;
    rows.into_iter()
        .map(|(t, strip, probe)| {
            let corrupt = |field: &'static str| StoreError::Invalid {
                field,
                why: format!("gateway {} has a bad stored {field}", t[0]),
            };
            Ok(Gateway {
                addr: t[1].parse().map_err(|_| corrupt("address"))?,
                transport: GatewayTransport::parse(&t[2]).ok_or_else(|| corrupt("transport"))?,
                prefix: t[3].clone(),
                strip: u32::try_from(strip).map_err(|_| corrupt("strip"))?,
                probe_secs: u32::try_from(probe).map_err(|_| corrupt("probe"))?,
                tls_verify: TlsVerify::parse(&t[4]).map_err(|_| corrupt("tls_verify"))?,
                name: t[0].clone(),
            })
        })
        .collect()
}

pub(crate) async fn add_gateway(s: &SqlStore, g: &Gateway) -> Result<(), StoreError> {
    g.check()?;
    let addr = g.addr.to_string();
    let verify = g.tls_verify.to_string();
    let r = s
        .execute(
            "INSERT INTO gateways \
             (name, address, transport, prefix, tls_verify, strip, probe_secs) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                str_arg(&g.name),
                str_arg(&addr),
                str_arg(g.transport.as_str()),
                str_arg(&g.prefix),
                str_arg(&verify),
                Arg::Int(i64::from(g.strip)),
                Arg::Int(i64::from(g.probe_secs)),
            ],
        )
        .await;
    match r {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("gateway {}", g.name),
        }),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn update_gateway(s: &SqlStore, g: &Gateway) -> Result<(), StoreError> {
    g.check()?;
    // Asked first: MySQL counts changed rows, not matched ones, so an edit that changes
    // nothing would look like a missing gateway.
    if !gateways(s).await?.iter().any(|x| x.name == g.name) {
        return Err(StoreError::NotFound {
            what: format!("gateway {}", g.name),
        });
    }
    let addr = g.addr.to_string();
    let verify = g.tls_verify.to_string();
    s.execute(
        "UPDATE gateways SET address = ?, transport = ?, prefix = ?, tls_verify = ?, strip = ?, \
         probe_secs = ? WHERE name = ?",
        &[
            str_arg(&addr),
            str_arg(g.transport.as_str()),
            str_arg(&g.prefix),
            str_arg(&verify),
            Arg::Int(i64::from(g.strip)),
            Arg::Int(i64::from(g.probe_secs)),
            str_arg(&g.name),
        ],
    )
    .await
    .map_err(backend_err)?;
    Ok(())
}

pub(crate) async fn delete_gateway(s: &SqlStore, name: &str) -> Result<(), StoreError> {
    if let Some(r) = routes(s)
        .await?
        .into_iter()
        .find(|r| r.gateways.iter().any(|g| g == name))
    {
        return Err(StoreError::Invalid {
            field: "gateway",
            why: format!("{name} is used by the route {}", r.prefix),
        });
    }
    let n = s
        .execute("DELETE FROM gateways WHERE name = ?", &[str_arg(name)])
        .await
        .map_err(backend_err)?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: format!("gateway {name}"),
        });
    }
    Ok(())
}

pub(crate) async fn routes(s: &SqlStore) -> Result<Vec<Route>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT domain, prefix, gateways, class FROM pstn_routes ORDER BY domain, prefix",
            &[],
            4,
        )
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Route {
                domain: (!r[0].is_empty()).then(|| r[0].clone()),
                prefix: r[1].clone(),
                gateways: r[2].split(',').map(str::to_owned).collect(),
                class: CallClass::parse(&r[3]).ok_or_else(|| StoreError::Invalid {
                    field: "class",
                    why: format!("route {} has a bad stored class", r[1]),
                })?,
            })
        })
        .collect()
}

pub(crate) async fn add_route(s: &SqlStore, r: &Route) -> Result<(), StoreError> {
    r.check()?;
    let known = gateways(s).await?;
    if let Some(g) = r
        .gateways
        .iter()
        .find(|g| !known.iter().any(|k| &k.name == *g))
    {
        return Err(StoreError::NotFound {
            what: format!("gateway {g}"),
        });
    }
    let domain = r.domain.as_deref().unwrap_or("").to_ascii_lowercase();
    let list = r.gateways.join(",");
    let res = s
        .execute(
            "INSERT INTO pstn_routes (domain, prefix, gateways, class) VALUES (?, ?, ?, ?)",
            &[
                str_arg(&domain),
                str_arg(&r.prefix),
                str_arg(&list),
                str_arg(r.class.as_str()),
            ],
        )
        .await;
    match res {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("route {}", r.prefix),
        }),
        res => res.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete_route(
    s: &SqlStore,
    prefix: &str,
    domain: Option<&str>,
) -> Result<(), StoreError> {
    let domain = domain.unwrap_or("").to_ascii_lowercase();
    let n = s
        .execute(
            "DELETE FROM pstn_routes WHERE domain = ? AND prefix = ?",
            &[str_arg(&domain), str_arg(prefix)],
        )
        .await
        .map_err(backend_err)?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: format!("route {prefix}"),
        });
    }
    Ok(())
}

pub(crate) async fn trusted(s: &SqlStore) -> Result<Vec<TrustedPeer>, StoreError> {
    let rows = s
        .fetch_strings(
            "SELECT cidr, gateway FROM trusted_peers ORDER BY cidr",
            &[],
            2,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| TrustedPeer {
            cidr: r[0].clone(),
            gateway: (!r[1].is_empty()).then(|| r[1].clone()),
        })
        .collect())
}

pub(crate) async fn add_trusted(s: &SqlStore, p: &TrustedPeer) -> Result<(), StoreError> {
    if let Some(g) = &p.gateway {
        if !gateways(s).await?.iter().any(|k| &k.name == g) {
            return Err(StoreError::NotFound {
                what: format!("gateway {g}"),
            });
        }
    }
    let gw = p.gateway.as_deref().unwrap_or("");
    let r = s
        .execute(
            "INSERT INTO trusted_peers (cidr, gateway) VALUES (?, ?)",
            &[str_arg(&p.cidr), str_arg(gw)],
        )
        .await;
    match r {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("trusted peer {}", p.cidr),
        }),
        r => r.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete_trusted(s: &SqlStore, cidr: &str) -> Result<(), StoreError> {
    let n = s
        .execute("DELETE FROM trusted_peers WHERE cidr = ?", &[str_arg(cidr)])
        .await
        .map_err(backend_err)?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: format!("trusted peer {cidr}"),
        });
    }
    Ok(())
}

pub(crate) async fn dial_rules(s: &SqlStore) -> Result<Vec<model::DialRule>, StoreError> {
    let rows: Vec<(Vec<String>, i64)> = with_pool!(&s.pool, p => {
        sqlx::query(
            "SELECT domain, pattern, replacement, priority FROM dial_rules \
             ORDER BY domain, priority, pattern",
        )
        .fetch(p)
        .and_then(|r| {
            let row = (0..3)
                .map(|i| text(&r, i))
                .collect::<Result<Vec<String>, _>>()
                .and_then(|t| Ok((t, r.try_get::<i64, _>(3)?)));
            std::future::ready(row)
        })
        .try_collect()
        .await
    })
    .map_err(backend_err)?;
    Ok(rows
        .into_iter()
        .map(|(t, priority)| model::DialRule {
            domain: t[0].clone(),
            pattern: t[1].clone(),
            replacement: t[2].clone(),
            priority: i32::try_from(priority).unwrap_or(i32::MAX),
        })
        .collect())
}

pub(crate) async fn add_dial_rule(s: &SqlStore, r: &model::DialRule) -> Result<(), StoreError> {
    r.check()?;
    let res = s
        .execute(
            "INSERT INTO dial_rules (domain, pattern, priority, replacement) VALUES (?, ?, ?, ?)",
            &[
                str_arg(&r.domain),
                str_arg(&r.pattern),
                Arg::Int(i64::from(r.priority)),
                str_arg(&r.replacement),
            ],
        )
        .await;
    match res {
        Err(e) if violation(&e) == Some(Violation::Unique) => Err(StoreError::Duplicate {
            what: format!("dial-plan rule {}", r.pattern),
        }),
        res => res.map(drop).map_err(backend_err),
    }
}

pub(crate) async fn delete_dial_rule(
    s: &SqlStore,
    domain: &str,
    pattern: &str,
) -> Result<(), StoreError> {
    let n = s
        .execute(
            "DELETE FROM dial_rules WHERE domain = ? AND pattern = ?",
            &[str_arg(domain), str_arg(pattern)],
        )
        .await
        .map_err(backend_err)?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: format!("dial-plan rule {pattern}"),
        });
    }
    Ok(())
}
