"""The cluster's metrics, read from the node at scrape time.

- `uptimeguard_node_info{node,location}` 1: which node answers this scrape, and where it is.
- `uptimeguard_leader` 1 on the node that runs the singletons, 0 elsewhere.
- `uptimeguard_sites_owned`: sites this node probes.
- `uptimeguard_nodes_live{location}`: live nodes of each location, as this node sees them.
- `uptimeguard_location_degraded{location}` 1 while a location's own network is failing.
- `uptimeguard_agreement_short_sites`: sites whose `agree` asks for more locations than are
  live (they use every live one).
- `uptimeguard_site_handovers_total`: sites this node took over from another node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class ClusterView(Protocol):
    """What the metrics read of the cluster (`uptimeguard.cluster.runtime.Cluster`)."""

    @property
    def name(self) -> str: ...

    @property
    def location(self) -> str: ...

    def is_leader(self) -> bool: ...

    def sites_owned(self) -> int: ...

    def live_by_location(self) -> Mapping[str, int]: ...

    def degraded_locations(self) -> frozenset[str]: ...

    def short_sites(self) -> int: ...

    def handovers(self) -> int: ...


class ClusterCollector(Collector):
    def __init__(self) -> None:
        self.view: ClusterView | None = None  # set once the node has joined

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self.view)

    @staticmethod
    def _families(view: ClusterView | None) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "uptimeguard_node_info",
            "This node's name and location (always 1).",
            labels=("node", "location"),
        )
        live = GaugeMetricFamily(
            "uptimeguard_nodes_live",
            "Live nodes of each location, as this node sees them.",
            labels=("location",),
        )
        degraded = GaugeMetricFamily(
            "uptimeguard_location_degraded",
            "1 while a location's own network fails: its probes open no incident.",
            labels=("location",),
        )
        leader = owned = handovers = short = 0
        if view is not None:
            info.add_metric([view.name, view.location], 1)
            down = view.degraded_locations()
            counts = view.live_by_location()
            for location in sorted(set(counts) | down | {view.location}):
                live.add_metric([location], counts.get(location, 0))
                degraded.add_metric([location], 1 if location in down else 0)
            leader, owned = int(view.is_leader()), view.sites_owned()
            handovers, short = view.handovers(), view.short_sites()
        yield info
        yield GaugeMetricFamily(
            "uptimeguard_leader", "1 on the node that runs what must run once.", value=leader
        )
        yield GaugeMetricFamily("uptimeguard_sites_owned", "Sites this node probes.", value=owned)
        yield live
        yield degraded
        yield GaugeMetricFamily(
            "uptimeguard_agreement_short_sites",
            "Sites whose agree asks for more locations than are live (they use every live one).",
            value=short,
        )
        yield CounterMetricFamily(
            "uptimeguard_site_handovers",
            "Sites this node took over from another node.",
            value=handovers,
        )
