//! Where each event goes: skipped by `--events`/`--path`, else to the first rule of the
//! routes file that matches, else to `--forward-to`; with no rule matching and no
//! `--forward-to`, skipped with "no route matched". Pure apart from the forwarders it holds.

use std::sync::Arc;

use hookrelay_proto::Event;

use crate::deliver::filter::Filter;
use crate::deliver::forward::Forwarder;
use crate::deliver::outgoing::HeaderOverride;
use crate::deliver::routes::Route;

/// The reason recorded for an event no rule matched when there is no `--forward-to`.
pub(crate) const NO_ROUTE: &str = "no route matched";

/// The route name shown for events that fell through to `--forward-to` while routes are in
/// use.
pub(crate) const FALLBACK_NAME: &str = "--forward-to";

/// What to do with one event.
pub(crate) enum Plan {
    /// Send it with this forwarder.
    Forward(Arc<Forwarder>),
    /// Acknowledge it as skipped, with this reason.
    Skip(String),
}

/// The filters, the routing rules (each with its own forwarder) and the fallback target.
pub(crate) struct Dispatch {
    filter: Filter,
    routes: Vec<(Route, Arc<Forwarder>)>,
    fallback: Option<Arc<Forwarder>>,
}

impl Dispatch {
    /// Rules are tried in order; `fallback` takes what none of them matches.
    pub(crate) fn new(
        filter: Filter,
        routes: Vec<(Route, Forwarder)>,
        fallback: Option<Forwarder>,
    ) -> Self {
        let routes = routes.into_iter().map(|(route, fw)| (route, Arc::new(fw))).collect();
        Self { filter, routes, fallback: fallback.map(Arc::new) }
    }

    /// Decides for `event`.
    pub(crate) fn plan(&self, event: &Event) -> Plan {
        if let Some(reason) = self.filter.skip_reason(event) {
            return Plan::Skip(reason);
        }
        let matched = self.routes.iter().find(|(route, _)| route.matches(event));
        match matched.map(|(_, forwarder)| forwarder).or(self.fallback.as_ref()) {
            Some(forwarder) => Plan::Forward(forwarder.clone()),
            None => Plan::Skip(NO_ROUTE.to_owned()),
        }
    }
}

impl Dispatch {
    /// Where a replay of `event` goes: the first rule that matches, else the fallback,
    /// whatever the filters say (the user asked for this one).
    pub(crate) fn forwarder_for(&self, event: &Event) -> Option<Arc<Forwarder>> {
        let matched = self.routes.iter().find(|(route, _)| route.matches(event));
        matched.map(|(_, forwarder)| forwarder).or(self.fallback.as_ref()).cloned()
    }
}

/// The `-H` overrides with a route's `headers` on top: a route header replaces a `-H` of
/// the same name.
pub(crate) fn route_overrides(base: &[HeaderOverride], route: &Route) -> Vec<HeaderOverride> {
    let mut out: Vec<HeaderOverride> = base
        .iter()
        .filter(|o| !route.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case(&o.name)))
        .cloned()
        .collect();
    out.extend(route.headers.iter().map(|(name, value)| HeaderOverride {
        name: name.to_ascii_lowercase(),
        value: value.clone(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn event(path: &str, body: &str) -> Event {
        crate::test_support::event(path, &[], body)
    }

    fn forwarder(name: &str) -> Forwarder {
        hookrelay_http::install_crypto_provider();
        let target = "http://127.0.0.1:9/".parse().expect("url");
        Forwarder::new(hookrelay_http::client(), target, vec![], Duration::from_secs(1))
            .with_name(Some(name.to_owned()))
    }

    fn target(plan: Plan) -> Result<String, String> {
        match plan {
            Plan::Forward(forwarder) => Ok(forwarder.name().unwrap_or_default().to_owned()),
            Plan::Skip(reason) => Err(reason),
        }
    }

    #[test]
    fn filters_come_first_then_rules_in_order_then_the_fallback() {
        let routes = crate::deliver::routes::parse(
            "[[route]]\nname = \"a\"\npath = \"/a/**\"\nto = \"http://127.0.0.1:1/\"\n",
        )
        .expect("valid");
        let rules = || vec![(routes[0].clone(), forwarder("a"))];
        let filter = Filter::new(Some("invoice.*"), None);
        let with_fallback = Dispatch::new(filter.clone(), rules(), Some(forwarder("fb")));
        let paid = r#"{"type":"invoice.paid"}"#;
        assert_eq!(target(with_fallback.plan(&event("/a/x", paid))), Ok("a".into()));
        assert_eq!(target(with_fallback.plan(&event("/b", paid))), Ok("fb".into()));
        let skipped = target(with_fallback.plan(&event("/a/x", r#"{"type":"charge"}"#)));
        assert!(skipped.is_err_and(|reason| reason.contains("--events")));
        let without = Dispatch::new(filter, rules(), None);
        assert_eq!(target(without.plan(&event("/b", paid))), Err(NO_ROUTE.into()));
    }

    #[test]
    fn route_headers_replace_same_named_flags() {
        let routes = crate::deliver::routes::parse(
            "[[route]]\nto = \"http://a/\"\n\
             headers = { \"X-Env\" = \"route\", \"X-New\" = \"1\" }\n",
        )
        .expect("valid");
        let base: Vec<HeaderOverride> =
            ["x-env: flag", "x-keep: k"].iter().map(|h| h.parse().expect("valid")).collect();
        let names: Vec<(String, String)> =
            route_overrides(&base, &routes[0]).into_iter().map(|o| (o.name, o.value)).collect();
        let want = [("x-keep", "k"), ("x-env", "route"), ("x-new", "1")];
        assert_eq!(names, want.map(|(n, v)| (n.to_owned(), v.to_owned())));
    }
}
