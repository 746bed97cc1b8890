//! CategoryMapping evaluation: which 1099Policy job category code a work order gets, and which
//! codes in a mapping 1099Policy would refuse.

use std::collections::BTreeSet;

use super::conditions::Desired;
use crate::resources::{CategoryMapping, CategoryMappingSpec, CategoryMappingStatus, ConditionType, MappingRule};

/// What WorkMarket says about a work order's category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkCategory {
    /// Industry name, e.g. "Technology".
    pub industry: Option<String>,
    /// Industry id, resolved from the name through WorkMarket's industry list.
    pub industry_id: Option<i64>,
    /// Client company id.
    pub client_id: Option<i64>,
    /// Label names on the work order.
    pub labels: Vec<String>,
}

/// The code a mapping chose, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    /// The 1099Policy job category code.
    pub code: String,
    /// Index of the rule that matched; `None` for the default code.
    pub rule: Option<usize>,
}

/// The first rule whose every given matcher matches, else the default code, else `None`.
pub fn choose(spec: &CategoryMappingSpec, work: &WorkCategory) -> Option<Chosen> {
    spec.rules
        .iter()
        .position(|rule| matches(rule, work))
        .map(|i| Chosen { code: spec.rules[i].category_code.clone(), rule: Some(i) })
        .or_else(|| spec.default_category_code.clone().map(|code| Chosen { code, rule: None }))
}

fn matches(rule: &MappingRule, work: &WorkCategory) -> bool {
    has_matcher(rule)
        && text_matches(&rule.industry, work.industry.as_deref())
        && rule.industry_id.is_none_or(|id| work.industry_id == Some(id))
        && rule.client_id.is_none_or(|id| work.client_id == Some(id))
        && rule.label.as_ref().is_none_or(|want| work.labels.iter().any(|l| same_text(want, l)))
}

/// A rule without a matcher matches nothing (the CRD refuses one; the core does not rely on it).
fn has_matcher(rule: &MappingRule) -> bool {
    rule.industry.is_some() || rule.industry_id.is_some() || rule.client_id.is_some() || rule.label.is_some()
}

/// Names compare case-insensitively and without surrounding blanks.
fn same_text(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A text matcher: absent matches anything; given, it needs the same text.
fn text_matches(want: &Option<String>, have: Option<&str>) -> bool {
    want.as_deref().is_none_or(|want| have.is_some_and(|have| same_text(want, have)))
}

/// A rule that can never match, because an earlier one matches everything it would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shadowed {
    /// Index of the rule that never matches.
    pub rule: usize,
    /// Index of the earlier rule that always wins over it.
    pub by: usize,
}

/// Rules shadowed by an earlier rule: one whose every matcher the later rule also has, with the
/// same value, matches whatever the later rule matches, and the first match wins.
pub fn shadowed(spec: &CategoryMappingSpec) -> Vec<Shadowed> {
    let covers = |earlier: &MappingRule, later: &MappingRule| {
        has_matcher(earlier)
            && text_matches(&earlier.industry, later.industry.as_deref())
            && text_matches(&earlier.label, later.label.as_deref())
            && earlier.industry_id.is_none_or(|id| later.industry_id == Some(id))
            && earlier.client_id.is_none_or(|id| later.client_id == Some(id))
    };
    let rules = &spec.rules;
    (0..rules.len())
        .filter_map(|rule| (0..rule).find(|&by| covers(&rules[by], &rules[rule])).map(|by| Shadowed { rule, by }))
        .collect()
}

/// A job category code as 1099Policy lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownCode {
    /// The `jc_…` code.
    pub code: String,
    /// Whether jobs may use it on this account.
    pub approved: bool,
}

/// Codes of a mapping that 1099Policy does not know, and those it knows but has not approved,
/// each sorted and without repeats.
pub fn problems(spec: &CategoryMappingSpec, known: &[KnownCode]) -> (Vec<String>, Vec<String>) {
    let used: BTreeSet<&str> =
        spec.rules.iter().map(|r| r.category_code.as_str()).chain(spec.default_category_code.as_deref()).collect();
    let mut unknown = Vec::new();
    let mut unapproved = Vec::new();
    for code in used {
        match known.iter().find(|k| k.code == code) {
            None => unknown.push(code.to_owned()),
            Some(k) if !k.approved => unapproved.push(code.to_owned()),
            Some(_) => {}
        }
    }
    (unknown, unapproved)
}

/// A mapping's status: Ready when 1099Policy knows and approves every code it uses.
pub fn status(
    mapping: &CategoryMapping,
    known: &[KnownCode],
    binding_count: usize,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> CategoryMappingStatus {
    let (unknown, unapproved) = problems(&mapping.spec, known);
    let ready = match (unknown.is_empty(), unapproved.is_empty()) {
        (true, true) => {
            Desired::yes(ConditionType::Ready, "CodesValid", "1099Policy knows and approves every code in this mapping")
        }
        (false, _) => Desired::no(
            ConditionType::Ready,
            "UnknownCodes",
            format!("1099Policy does not know {}", unknown.join(", ")),
        ),
        (true, false) => Desired::no(
            ConditionType::Ready,
            "UnapprovedCodes",
            format!(
                "1099Policy has not approved {} for this account; jobs using them will be refused",
                unapproved.join(", ")
            ),
        ),
    };
    let current = mapping.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
    let generation = mapping.metadata.generation;
    CategoryMappingStatus {
        observed_generation: generation,
        conditions: super::conditions::merge(current, &[ready], generation, now),
        rule_count: Some(mapping.spec.rules.len() as i32),
        unknown_codes: unknown,
        unapproved_codes: unapproved,
        binding_count: Some(binding_count as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(code: &str) -> MappingRule {
        MappingRule { category_code: code.into(), industry: None, industry_id: None, client_id: None, label: None }
    }

    fn spec() -> CategoryMappingSpec {
        CategoryMappingSpec {
            rules: vec![
                MappingRule { label: Some("Brand ambassador".into()), ..rule("jc_label") },
                MappingRule { industry: Some("Technology".into()), client_id: Some(40211), ..rule("jc_client") },
                MappingRule { industry: Some("technology".into()), ..rule("jc_industry") },
                MappingRule { industry_id: Some(1002), ..rule("jc_construction") },
            ],
            default_category_code: Some("jc_default".into()),
        }
    }

    fn work(industry: &str, client: Option<i64>, labels: &[&str]) -> WorkCategory {
        WorkCategory {
            industry: Some(industry.into()),
            industry_id: None,
            client_id: client,
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn a_rule_an_earlier_one_always_beats_is_shadowed() {
        let spec = CategoryMappingSpec {
            rules: vec![
                MappingRule { industry: Some("Technology".into()), ..rule("jc_1") },
                MappingRule { industry: Some(" technology ".into()), client_id: Some(7), ..rule("jc_2") },
                MappingRule { client_id: Some(7), ..rule("jc_3") },
                MappingRule { label: Some("Rush".into()), client_id: Some(7), ..rule("jc_4") },
                MappingRule { industry_id: Some(1000), ..rule("jc_5") },
            ],
            default_category_code: None,
        };
        // Rule 1 (Technology, client 7) and rule 3 (Rush, client 7) can never win; the rest can.
        assert_eq!(shadowed(&spec), [Shadowed { rule: 1, by: 0 }, Shadowed { rule: 3, by: 2 }]);
        assert!(shadowed(&self::spec()).is_empty(), "narrower rules first shadow nothing");
    }

    #[test]
    fn first_rule_whose_every_matcher_matches_wins() {
        let spec = spec();
        let pick = |w: &WorkCategory| choose(&spec, w).map(|c| (c.code, c.rule));
        assert_eq!(pick(&work("Technology", Some(40211), &["brand AMBASSADOR"])), Some(("jc_label".into(), Some(0))));
        assert_eq!(pick(&work("TECHNOLOGY", Some(40211), &[])), Some(("jc_client".into(), Some(1))));
        assert_eq!(
            pick(&work("Technology", Some(7), &[])),
            Some(("jc_industry".into(), Some(2))),
            "client must match too"
        );
        let construction = WorkCategory { industry_id: Some(1002), ..work("Construction", None, &[]) };
        assert_eq!(pick(&construction), Some(("jc_construction".into(), Some(3))));
        assert_eq!(pick(&work("Marketing", None, &[])), Some(("jc_default".into(), None)));
    }

    #[test]
    fn no_match_and_no_default_is_unmapped() {
        let spec = CategoryMappingSpec { default_category_code: None, ..spec() };
        assert_eq!(choose(&spec, &work("Marketing", None, &[])), None);
        assert_eq!(choose(&spec, &WorkCategory::default()), None, "missing industry matches no industry rule");
    }

    #[test]
    fn a_rule_without_matchers_never_matches() {
        // The CRD forbids it; the core does not rely on that.
        let spec = CategoryMappingSpec { rules: vec![rule("jc_any")], default_category_code: None };
        assert_eq!(choose(&spec, &work("Technology", None, &[])), None);
    }

    #[test]
    fn lists_unknown_and_unapproved_codes() {
        let known = [
            KnownCode { code: "jc_label".into(), approved: true },
            KnownCode { code: "jc_client".into(), approved: false },
            KnownCode { code: "jc_industry".into(), approved: true },
            KnownCode { code: "jc_default".into(), approved: true },
        ];
        let (unknown, unapproved) = problems(&spec(), &known);
        assert_eq!(unknown, ["jc_construction"]);
        assert_eq!(unapproved, ["jc_client"]);
    }
}
