//! Dial plans (issue 14): per-domain rules that rewrite the number a local user dialled
//! before it is routed, e.g. `^0([1-9][0-9]+)$` -> `+49$1`. Rules are tried in priority
//! order (lowest first, then as added); the first whose expression matches rewrites the
//! number (`$1`-style templates of the `regex` crate) and ends the translation.
//!
//! This module owns a rule's check (a bad expression is refused, naming the error) and
//! the translation, shared by the proxy and `switchboard dialplan test`.

use regex::Regex;

use crate::error::StoreError;

/// Longest expression or replacement.
pub const MAX_DIALPLAN_TEXT: usize = 200;

/// One rule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialRule {
    /// The domain whose users' numbers it rewrites.
    pub domain: String,
    /// Lower first.
    pub priority: i32,
    /// The regular expression (`regex` crate syntax).
    pub pattern: String,
    /// The replacement template (`$1`, `${name}`).
    pub replacement: String,
}

impl DialRule {
    /// Checks the expression compiles and both texts are bounded.
    pub fn check(&self) -> Result<Regex, StoreError> {
        if self.pattern.len() > MAX_DIALPLAN_TEXT || self.replacement.len() > MAX_DIALPLAN_TEXT {
            return Err(StoreError::Invalid {
                field: "match",
                why: format!("at most {MAX_DIALPLAN_TEXT} characters"),
            });
        }
        Regex::new(&self.pattern).map_err(|e| StoreError::Invalid {
            field: "match",
            why: format!("{:?} is not a regular expression: {e}", self.pattern),
        })
    }
}

/// One rule tried by [`DialPlan::translate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialStep {
    /// The rule's expression.
    pub pattern: String,
    /// Its replacement template.
    pub replacement: String,
    /// The number after it, when it matched.
    pub result: Option<String>,
}

/// The compiled rules of one domain, in order.
#[derive(Debug, Clone, Default)]
pub struct DialPlan {
    rules: Vec<(Regex, DialRule)>,
}

impl DialPlan {
    /// Compiles `rules` (one domain's), sorted by priority; a rule that does not compile
    /// is skipped.
    pub fn new(mut rules: Vec<DialRule>) -> DialPlan {
        rules.sort_by_key(|r| r.priority);
        DialPlan {
            rules: rules
                .into_iter()
                .filter_map(|r| r.check().ok().map(|re| (re, r)))
                .collect(),
        }
    }

    /// Whether the plan has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The number after the first matching rule (or as dialled), and every rule tried.
    pub fn translate(&self, number: &str) -> (String, Vec<DialStep>) {
        let mut steps = Vec::new();
        for (re, rule) in &self.rules {
            let hit = re
                .is_match(number)
                .then(|| re.replace(number, rule.replacement.as_str()).into_owned());
            steps.push(DialStep {
                pattern: rule.pattern.clone(),
                replacement: rule.replacement.clone(),
                result: hit.clone(),
            });
            if let Some(out) = hit {
                return (out, steps);
            }
        }
        (number.to_owned(), steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: i32, pattern: &str, replacement: &str) -> DialRule {
        DialRule {
            domain: "example.com".into(),
            priority,
            pattern: pattern.into(),
            replacement: replacement.into(),
        }
    }

    #[test]
    fn first_match_in_priority_order() {
        let plan = DialPlan::new(vec![
            rule(20, "^0([1-9][0-9]+)$", "+49$1"),
            rule(10, "^00([1-9][0-9]+)$", "+$1"),
        ]);
        assert_eq!(plan.translate("0301234").0, "+49301234");
        let (out, steps) = plan.translate("0044207");
        assert_eq!(out, "+44207");
        assert_eq!(steps.len(), 1);
        let (out, steps) = plan.translate("+4930");
        assert_eq!(out, "+4930");
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn bad_expressions_are_named() {
        let e = rule(1, "^0([1-9", "x").check().unwrap_err().to_string();
        assert!(
            e.contains("match") && e.contains("not a regular expression"),
            "{e}"
        );
    }
}
