//! Label selectors: the `labelSelector` query syntax (`a=b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`, `a>1`, `a<1`) and the `metav1.LabelSelector` struct form, parsed
//! into one [`LabelSelector`] that matches a set of labels.

use std::collections::BTreeMap;

use crate::model::meta::LabelSelector as LabelSelectorSpec;

/// A parsed label selector: the conjunction of its requirements. The empty selector
/// matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// One term of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// How the key's value is compared.
    pub op: Operator,
    /// The values the operator compares against (empty for `Exists`/`DoesNotExist`).
    pub values: Vec<String>,
}

/// The comparison a [`Requirement`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `key=value` or `key==value`, and `in` with one value.
    In,
    /// `key!=value` and `notin`: also true when the key is absent.
    NotIn,
    /// `key`: the key is present.
    Exists,
    /// `!key`: the key is absent.
    DoesNotExist,
    /// `key>N`: the value is an integer greater than N.
    Gt,
    /// `key<N`: the value is an integer less than N.
    Lt,
}

/// Why a selector could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(pub String);

impl LabelSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// True when the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, in the order given.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Parses the query-string form.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        Parser { chars: text.chars().collect(), pos: 0 }.parse()
    }

    /// Builds a selector from the structured form used in specs (`matchLabels` and
    /// `matchExpressions`).
    pub fn from_spec(spec: &LabelSelectorSpec) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for (key, value) in spec.match_labels.iter().flatten() {
            requirements.push(Requirement { key: key.clone(), op: Operator::In, values: vec![value.clone()] });
        }
        for expr in spec.match_expressions.iter().flatten() {
            let values = expr.values.clone().unwrap_or_default();
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(SelectorError(format!("{other:?} is not a valid label selector operator"))),
            };
            let needs_values = matches!(op, Operator::In | Operator::NotIn);
            if needs_values == values.is_empty() {
                return Err(SelectorError(format!(
                    "values: for '{}' operator, values set must {}be empty",
                    expr.operator,
                    if needs_values { "not " } else { "" }
                )));
            }
            requirements.push(Requirement { key: expr.key.clone(), op, values });
        }
        Ok(Self { requirements })
    }

    /// True when every requirement holds for `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
    }
}

impl Requirement {
    /// True when the requirement holds for a label whose value is `value` (None: absent).
    pub fn matches(&self, value: Option<&str>) -> bool {
        match self.op {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Operator::NotIn => value.is_none_or(|v| self.values.iter().all(|x| x != v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Gt | Operator::Lt => {
                let (Some(v), Some(bound)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|b| b.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.op == Operator::Gt { v > bound } else { v < bound }
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn error(&self, what: impl Into<String>) -> SelectorError {
        SelectorError(what.into())
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, s: &str) -> bool {
        let want: Vec<char> = s.chars().collect();
        if self.chars[self.pos..].starts_with(&want) {
            self.pos += want.len();
            true
        } else {
            false
        }
    }

    /// An identifier or value: a run of characters that are not spaces or operators.
    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '=' | '!' | '(' | ')' | '<' | '>') {
                break;
            }
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn parse(mut self) -> Result<LabelSelector, SelectorError> {
        let mut requirements = Vec::new();
        self.skip_space();
        if self.peek().is_none() {
            return Ok(LabelSelector::default());
        }
        loop {
            requirements.push(self.requirement()?);
            self.skip_space();
            match self.peek() {
                None => break,
                Some(',') => {
                    self.pos += 1;
                    self.skip_space();
                }
                Some(c) => return Err(self.error(format!("found '{c}', expected: ',' or 'end of string'"))),
            }
        }
        Ok(LabelSelector { requirements })
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_space();
        if self.eat("!") {
            self.skip_space();
            let key = self.key()?;
            return Ok(Requirement { key, op: Operator::DoesNotExist, values: vec![] });
        }
        let key = self.key()?;
        self.skip_space();
        let (op, values) = if self.eat("==") || self.eat("=") {
            (Operator::In, vec![self.value()?])
        } else if self.eat("!=") {
            (Operator::NotIn, vec![self.value()?])
        } else if self.eat(">") {
            (Operator::Gt, vec![self.integer()?])
        } else if self.eat("<") {
            (Operator::Lt, vec![self.integer()?])
        } else {
            let save = self.pos;
            match self.word().as_str() {
                "in" => (Operator::In, self.set()?),
                "notin" => (Operator::NotIn, self.set()?),
                "" => (Operator::Exists, vec![]),
                other => {
                    self.pos = save;
                    return Err(self.error(format!("found '{other}', expected: in, notin, =, ==, !=, gt, lt")));
                }
            }
        };
        Ok(Requirement { key, op, values })
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let key = self.word();
        if key.is_empty() {
            return Err(self.error(format!(
                "found '{}', expected: identifier",
                self.peek().map(String::from).unwrap_or_else(|| "end of string".into())
            )));
        }
        let problems = crate::model::names::qualified_name(&key);
        if let Some(problem) = problems.first() {
            return Err(self.error(format!("invalid label key \"{key}\": {problem}")));
        }
        Ok(key)
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        self.skip_space();
        let value = self.word();
        if let Some(problem) = crate::model::names::label_value(&value).first() {
            return Err(self.error(format!("invalid label value: \"{value}\": {problem}")));
        }
        Ok(value)
    }

    fn integer(&mut self) -> Result<String, SelectorError> {
        let value = self.value()?;
        value
            .parse::<i64>()
            .map(|_| value.clone())
            .map_err(|_| self.error(format!("for 'Gt', 'Lt' operators, the value must be an integer: {value:?}")))
    }

    fn set(&mut self) -> Result<Vec<String>, SelectorError> {
        self.skip_space();
        if !self.eat("(") {
            return Err(self.error("found end of input, expected: '('"));
        }
        self.skip_space();
        if self.peek() == Some(')') {
            return Err(self.error("for 'in', 'notin' operators, values set can't be empty"));
        }
        let mut values = Vec::new();
        loop {
            self.skip_space();
            values.push(self.value()?);
            self.skip_space();
            if self.eat(")") {
                break;
            }
            if !self.eat(",") {
                return Err(self.error("expected ',' or ')' in a value set"));
            }
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn table() {
        let web = labels(&[("app", "web"), ("tier", "fe"), ("n", "5")]);
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (db, web)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=fe", true),
            ("app=web, tier=be", false),
            ("n>4", true),
            ("n<5", false),
            ("app>4", false),
            ("app=", false),
        ];
        for (text, want) in cases {
            let sel = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sel.matches(&web), *want, "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["=x", "a in x", "a in (x", "a b", "a=b c", "a>x", "a=b;c", "a=(", "a,,b", "a in ()"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn structured_form() {
        let spec: LabelSelectorSpec = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]
        }))
        .unwrap();
        let sel = LabelSelector::from_spec(&spec).unwrap();
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
        let bad: LabelSelectorSpec = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["x"]}]
        }))
        .unwrap();
        assert!(LabelSelector::from_spec(&bad).is_err());
    }
}
