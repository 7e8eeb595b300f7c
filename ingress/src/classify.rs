//! Classification: which queue a message goes to, decided by an ordered list of rules read
//! from a TOML file (the default, `ingress/classify.toml`, is compiled in). Deciding is pure:
//! [`Rules::classify`] takes what the webhook saw and returns a [`Decision`]; the webhook acts
//! on it.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use queue_core::Class;
use serde::Deserialize;

/// The default rules, as shipped in `ingress/classify.toml`.
pub const DEFAULT_RULES: &str = include_str!("../classify.toml");

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A task for the MacBook.
    Heavy,
    /// A task for the VM.
    Light,
    /// A schedule: the message defines a recurring time.
    Scheduled,
}

impl Route {
    /// `heavy`, `light` or `scheduled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Heavy => "heavy",
            Route::Light => "light",
            Route::Scheduled => "scheduled",
        }
    }

    /// The task class, for heavy and light.
    pub fn class(self) -> Option<Class> {
        match self {
            Route::Heavy => Some(Class::Heavy),
            Route::Light => Some(Class::Light),
            Route::Scheduled => None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "heavy" => Ok(Route::Heavy),
            "light" => Ok(Route::Light),
            "scheduled" => Ok(Route::Scheduled),
            other => Err(format!(
                "unknown class {other:?} (expected heavy, light or scheduled)"
            )),
        }
    }
}

/// What to do with an update that is not a new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdatePolicy {
    /// Queue it as a light task with the raw update, no reply.
    Keep,
    /// Answer 200 and create nothing.
    Ignore,
}

/// What the classifier looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input<'a> {
    /// The text, or the caption of a photo.
    pub text: &'a str,
    /// Whether an image came with it: a photo, or an image sent as a file.
    pub has_photo: bool,
    /// Whether the text defines a recurring time (the schedule phrase parser matched).
    pub recurring: bool,
}

/// The classifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Where it goes.
    pub route: Route,
    /// The rule that decided (the settings' `default_rule` when none matched).
    pub rule: String,
    /// The handler kind (for scheduled: empty; the schedule's task is classified separately).
    pub kind: String,
}

/// Global settings of a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    /// The class when no rule matches.
    pub default_class: Class,
    /// The rule name recorded when no rule matches.
    pub default_rule: String,
    /// Kind of heavy tasks whose rule names none.
    pub heavy_kind: String,
    /// Kind of light tasks whose rule names none.
    pub light_kind: String,
    /// Updates other than messages and channel posts.
    pub other_updates: UpdatePolicy,
    /// Kind of the light task that keeps such an update.
    pub other_kind: String,
    /// Edited messages and channel posts.
    pub edited_messages: UpdatePolicy,
    /// The time of day (hour, minute) a recurring phrase without one takes when its task's
    /// rule names none; `None`: such a phrase is refused.
    pub default_time: Option<(u32, u32)>,
}

/// One rule: a name, a route, an optional kind, and conditions that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Recorded in the envelope's `class_rule` label.
    pub name: String,
    /// Where matching messages go.
    pub route: Route,
    /// The handler kind (default: the settings' kind for the class).
    pub kind: Option<String>,
    /// The time of day a recurring phrase without one takes for this rule's task.
    pub default_time: Option<(u32, u32)>,
    has_photo: Option<bool>,
    recurring: Option<bool>,
    contains_any: Vec<String>,
    min_chars: Option<usize>,
}

impl Rule {
    fn matches(&self, input: &Input<'_>, normalized: &str, chars: usize) -> bool {
        self.has_photo.is_none_or(|want| want == input.has_photo)
            && self.recurring.is_none_or(|want| want == input.recurring)
            && self.min_chars.is_none_or(|min| chars >= min)
            && (self.contains_any.is_empty()
                || self.contains_any.iter().any(|p| normalized.contains(p)))
    }
}

/// A loaded rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Global settings.
    pub settings: RuleSettings,
    /// The rules, in the order they are tried.
    pub rules: Vec<Rule>,
}

/// A rules file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad rules file {source_name}: {message}")]
pub struct RulesError {
    source_name: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    settings: SettingsDoc,
    #[serde(default)]
    rule: Vec<RuleDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SettingsDoc {
    default_class: String,
    default_rule: String,
    heavy_kind: String,
    light_kind: String,
    other_updates: UpdatePolicy,
    other_kind: String,
    edited_messages: UpdatePolicy,
    default_time: Option<String>,
}

impl Default for SettingsDoc {
    fn default() -> Self {
        SettingsDoc {
            default_class: "light".into(),
            default_rule: "default".into(),
            heavy_kind: "telegram-heavy".into(),
            light_kind: "telegram-light".into(),
            other_updates: UpdatePolicy::Keep,
            other_kind: "telegram-update".into(),
            edited_messages: UpdatePolicy::Ignore,
            default_time: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    name: String,
    class: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    default_time: Option<String>,
    #[serde(default)]
    has_photo: Option<bool>,
    #[serde(default)]
    recurring: Option<bool>,
    #[serde(default)]
    contains_any: Vec<String>,
    #[serde(default)]
    min_chars: Option<usize>,
}

/// `"HH:MM"` (24-hour) → (hour, minute).
pub fn parse_time_of_day(text: &str) -> Option<(u32, u32)> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// Lowercase and drop whitespace, so "전략 수립" and "전략수립" compare equal.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Rules {
    /// The compiled-in default rules.
    pub fn builtin() -> Rules {
        Rules::parse(DEFAULT_RULES, "builtin classify.toml").expect("the default rules are valid")
    }

    /// Read and check a rules file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            source_name: path.display().to_string(),
            message: format!("cannot read it ({e})"),
        })?;
        Rules::parse(&text, &path.display().to_string())
    }

    /// Parse and check rules from TOML text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Rules, RulesError> {
        let err = |message: String| RulesError {
            source_name: source_name.to_string(),
            message,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let s = doc.settings;
        let default_class: Class = s.default_class.parse().map_err(|_| {
            err(format!(
                "settings.default_class={:?} (expected heavy or light)",
                s.default_class
            ))
        })?;
        for (key, kind) in [
            ("heavy_kind", &s.heavy_kind),
            ("light_kind", &s.light_kind),
            ("other_kind", &s.other_kind),
        ] {
            if !queue_core::names::is_valid_kind(kind) {
                return Err(err(format!(
                    "settings.{key}={kind:?} (use 1-64 letters, digits, '.', '_' or '-')"
                )));
            }
        }
        let time = |key: &str, text: &Option<String>| match text {
            None => Ok(None),
            Some(t) => parse_time_of_day(t)
                .map(Some)
                .ok_or_else(|| err(format!("{key}={t:?} (write a 24-hour time like \"09:00\")"))),
        };
        let default_time = time("settings.default_time", &s.default_time)?;
        if s.default_rule.trim().is_empty() {
            return Err(err("settings.default_rule is empty".into()));
        }
        let mut seen = BTreeSet::new();
        let mut rules = Vec::with_capacity(doc.rule.len());
        for (i, r) in doc.rule.into_iter().enumerate() {
            let at = format!("rule #{} ({:?})", i + 1, r.name);
            if r.name.trim().is_empty() {
                return Err(err(format!("rule #{} has an empty name", i + 1)));
            }
            if !seen.insert(r.name.clone()) {
                return Err(err(format!("{at}: the name is used twice")));
            }
            let route: Route = r.class.parse().map_err(|e| err(format!("{at}: {e}")))?;
            if let Some(kind) = &r.kind {
                if route == Route::Scheduled {
                    return Err(err(format!(
                        "{at}: a scheduled rule takes no kind (its tasks are classified by the other rules)"
                    )));
                }
                if !queue_core::names::is_valid_kind(kind) {
                    return Err(err(format!(
                        "{at}: kind={kind:?} (use 1-64 letters, digits, '.', '_' or '-')"
                    )));
                }
            }
            let default_time = time(&format!("{at}: default_time"), &r.default_time)?;
            if default_time.is_some() && route == Route::Scheduled {
                return Err(err(format!(
                    "{at}: default_time belongs on the rule of the task a schedule runs, not on a scheduled rule"
                )));
            }
            let contains_any: Vec<String> = r.contains_any.iter().map(|p| normalize(p)).collect();
            if contains_any.iter().any(String::is_empty) {
                return Err(err(format!("{at}: contains_any has an empty pattern")));
            }
            if r.has_photo.is_none()
                && r.recurring.is_none()
                && contains_any.is_empty()
                && r.min_chars.is_none()
            {
                return Err(err(format!(
                    "{at}: no condition (give has_photo, recurring, contains_any or min_chars)"
                )));
            }
            rules.push(Rule {
                name: r.name,
                route,
                kind: r.kind,
                default_time,
                has_photo: r.has_photo,
                recurring: r.recurring,
                contains_any,
                min_chars: r.min_chars,
            });
        }
        Ok(Rules {
            settings: RuleSettings {
                default_class,
                default_rule: s.default_rule,
                heavy_kind: s.heavy_kind,
                light_kind: s.light_kind,
                other_updates: s.other_updates,
                other_kind: s.other_kind,
                edited_messages: s.edited_messages,
                default_time,
            },
            rules,
        })
    }

    /// Decide where a message goes: the first matching rule, else the default class.
    pub fn classify(&self, input: &Input<'_>) -> Decision {
        self.decide(input, true)
    }

    /// Decide the class of a task (never [`Route::Scheduled`]): what a schedule made from a
    /// message runs.
    pub fn classify_task(&self, input: &Input<'_>) -> Decision {
        self.decide(input, false)
    }

    fn decide(&self, input: &Input<'_>, allow_scheduled: bool) -> Decision {
        let normalized = normalize(input.text);
        let chars = input.text.trim().chars().count();
        let matched = self.rules.iter().find(|r| {
            (allow_scheduled || r.route != Route::Scheduled) && r.matches(input, &normalized, chars)
        });
        match matched {
            Some(rule) => Decision {
                route: rule.route,
                rule: rule.name.clone(),
                kind: match rule.route.class() {
                    Some(class) => rule
                        .kind
                        .clone()
                        .unwrap_or_else(|| self.kind_for(class).to_string()),
                    None => String::new(),
                },
            },
            None => {
                let class = self.settings.default_class;
                Decision {
                    route: match class {
                        Class::Heavy => Route::Heavy,
                        Class::Light => Route::Light,
                    },
                    rule: self.settings.default_rule.clone(),
                    kind: self.kind_for(class).to_string(),
                }
            }
        }
    }

    /// The time of day a recurring phrase without one takes for the task `text`: the
    /// `default_time` of the rule that classifies the task, else the settings' (`None`: refuse).
    pub fn default_time(&self, text: &str) -> Option<(u32, u32)> {
        let task = self.classify_task(&Input {
            text,
            has_photo: false,
            recurring: false,
        });
        self.rules
            .iter()
            .find(|r| r.name == task.rule)
            .and_then(|r| r.default_time)
            .or(self.settings.default_time)
    }

    /// The kind of tasks of `class` whose rule names none.
    pub fn kind_for(&self, class: Class) -> &str {
        match class {
            Class::Heavy => &self.settings.heavy_kind,
            Class::Light => &self.settings.light_kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Input<'_> {
        Input {
            text: t,
            has_photo: false,
            recurring: false,
        }
    }

    fn decide(t: &str) -> (Route, String) {
        let d = Rules::builtin().classify(&text(t));
        (d.route, d.rule)
    }

    #[test]
    fn default_rules_sort_the_phrases_people_use() {
        assert_eq!(
            decide("브랜드 전략 분석해줘"),
            (Route::Heavy, "analysis".into())
        );
        assert_eq!(
            decide("내년 마케팅 전략수립 부탁해"),
            (Route::Heavy, "strategy".into())
        );
        assert_eq!(
            decide("우리 브랜드 아이덴티티 정리"),
            (Route::Heavy, "brand-identity".into())
        );
        assert_eq!(
            decide("내일 3시 일정 등록"),
            (Route::Light, "calendar".into())
        );
        assert_eq!(decide("서버 로그 확인"), (Route::Light, "logs".into()));
        assert_eq!(decide("상태 체크"), (Route::Light, "status-check".into()));
        assert_eq!(decide("환율 조회"), (Route::Light, "lookup".into()));
        assert_eq!(
            decide("다운로드 폴더 파일 정리"),
            (Route::Light, "tidy-files".into())
        );
        assert_eq!(decide("안녕"), (Route::Heavy, "conversation".into()));
    }

    #[test]
    fn long_requests_are_heavy_and_photos_win() {
        let long = "가".repeat(300);
        assert_eq!(decide(&long), (Route::Heavy, "long-request".into()));
        let rules = Rules::builtin();
        let photo = rules.classify(&Input {
            text: "로그 확인",
            has_photo: true,
            recurring: false,
        });
        assert_eq!((photo.route, photo.rule.as_str()), (Route::Heavy, "photo"));
        assert_eq!(photo.kind, "telegram-heavy");
    }

    #[test]
    fn recurring_messages_are_scheduled_and_their_tasks_classified_apart() {
        let rules = Rules::builtin();
        let input = Input {
            text: "매일 오전 9시 콘텐츠 분석해줘",
            has_photo: false,
            recurring: true,
        };
        assert_eq!(rules.classify(&input).route, Route::Scheduled);
        let task = rules.classify_task(&input);
        assert_eq!((task.route, task.rule.as_str()), (Route::Heavy, "analysis"));
    }

    #[test]
    fn recurring_tasks_without_a_time_take_their_rules_time_or_the_default() {
        let rules = Rules::builtin();
        assert_eq!(rules.default_time("시스템 진화"), Some((0, 0)));
        assert_eq!(rules.default_time("컨텐츠 아이디어 생성"), Some((9, 0)));
        assert_eq!(rules.default_time("로그 분석"), Some((0, 0)));
        assert_eq!(rules.default_time("주간 리포트"), Some((9, 0)), "settings");
        let strict = Rules::parse(
            "[[rule]]\nname='evo'\nclass='light'\ndefault_time='23:30'\ncontains_any=['진화']",
            "t.toml",
        )
        .unwrap();
        assert_eq!(strict.default_time("시스템 진화"), Some((23, 30)));
        assert_eq!(
            strict.default_time("리포트"),
            None,
            "no settings default: refuse"
        );
        assert_eq!(parse_time_of_day("9:05"), Some((9, 5)));
        for bad in ["24:00", "9", "09:5", "ab:cd", "12:60"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
        let e = Rules::parse("[settings]\ndefault_time='25:00'", "t.toml").unwrap_err();
        assert!(e.to_string().contains("default_time"), "{e}");
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let e =
            Rules::parse("[[rule]]\nname='x'\nclass='huge'\nmin_chars=1", "t.toml").unwrap_err();
        assert!(e.to_string().contains("unknown class \"huge\""), "{e}");
        let e = Rules::parse("[[rule]]\nname='x'\nclass='light'", "t.toml").unwrap_err();
        assert!(e.to_string().contains("no condition"), "{e}");
        let e = Rules::parse(
            "[[rule]]\nname='x'\nclass='light'\nmin_chars=1\ncolour=1",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = Rules::parse(
            "[[rule]]\nname='x'\nclass='light'\nmin_chars=1\n[[rule]]\nname='x'\nclass='heavy'\nmin_chars=2",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("used twice"), "{e}");
        let e = Rules::parse("[settings]\nheavy_kind='a b'", "t.toml").unwrap_err();
        assert!(e.to_string().contains("heavy_kind"), "{e}");
    }

    #[test]
    fn a_custom_file_can_change_default_and_kinds() {
        let rules = Rules::parse(
            "[settings]\ndefault_class='heavy'\nheavy_kind='agent'\n[[rule]]\nname='ping'\nclass='light'\nkind='ping'\ncontains_any=['PING']",
            "t.toml",
        )
        .unwrap();
        let d = rules.classify(&text("ping please"));
        assert_eq!((d.route, d.kind.as_str()), (Route::Light, "ping"));
        let d = rules.classify(&text("anything"));
        assert_eq!(
            (d.route, d.kind.as_str(), d.rule.as_str()),
            (Route::Heavy, "agent", "default")
        );
    }
}
