//! Find-me (RFC 5359 §2.12): the user's phones by q group, each group ringing for a
//! while, then the find-me list in order, each target ringing for its own time.

use std::time::Duration;

use crate::fork::Target;
use crate::services::Step;

/// The serial steps: `contact_groups` (best q first) each for `contact_ring`, then each
/// list entry (already resolved to its targets: one group of phones, or one group per
/// next hop of a name) for its ring time. Empty entries (a target that cannot be reached
/// now) are skipped.
pub(crate) fn steps(
    contact_groups: Vec<Vec<Target>>,
    contact_ring: Duration,
    list: Vec<(Vec<Vec<Target>>, u32)>,
) -> Vec<Step> {
    contact_groups
        .into_iter()
        .map(|targets| Step {
            groups: vec![targets],
            ring: contact_ring,
        })
        .chain(list.into_iter().map(|(groups, secs)| Step {
            groups,
            ring: Duration::from_secs(u64::from(secs)),
        }))
        .map(|mut s| {
            s.groups.retain(|g| !g.is_empty());
            s
        })
        .filter(|s| !s.groups.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::forwarding::remote_target;

    #[test]
    fn contacts_first_then_the_list() {
        let t = |u: &str| remote_target(u).unwrap();
        let s = steps(
            vec![vec![t("sip:a@192.0.2.1")], vec![t("sip:b@192.0.2.2")]],
            Duration::from_secs(5),
            vec![
                (
                    vec![vec![t("sip:c@192.0.2.3")], vec![t("sip:c@192.0.2.4")]],
                    10,
                ),
                (vec![], 7),
                (vec![vec![]], 7),
            ],
        );
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[2].groups.len(),
            2,
            "a name's next hops, one after the other"
        );
        assert_eq!(s[2].ring, Duration::from_secs(10));
        assert_eq!(s[0].ring, Duration::from_secs(5));
    }
}
