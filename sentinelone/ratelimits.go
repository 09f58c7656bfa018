package sentinelone

import (
	"time"

	"golang.org/x/time/rate"
)

// DefaultRouteLimits returns the console's published per-token rate limits
// as client-side route limits (paths relative to /web/api/v2.1). New applies
// them; WithRouteLimit replaces an entry and WithoutRouteLimits drops them.
//
//	/threats (list)            10/s, burst 50
//	/threats/... (sub-paths)   100/s, burst 1000
//	/agents (incl. actions)    25/s, burst 1
//	/activities                10/s, burst 30
//	/dv/init-query             1/min
//	/dv/query-status           1/s
//	/dv/events/pq, pq-ping     4/s
//	/threat-intelligence       30/min
//	/exclusions                25/s, burst 25
//	/sites, /accounts          100/s, burst 10
//	/cloud-detection/rules     30/min
//	/remote-scripts, /export   1/s, burst 30
//	/service-users             5/s, burst 10
//	/system/status             1/s
//	/users/login               1/s
//	/update/agent/download     2/min
func DefaultRouteLimits() []RouteLimit {
	perMin := func(n float64) rate.Limit { return rate.Every(time.Duration(float64(time.Minute) / n)) }
	return []RouteLimit{
		{Prefix: "/threats", Limit: 10, Burst: 50},
		{Prefix: "/threats/*", Limit: 100, Burst: 1000},
		{Prefix: "/agents", Limit: 25, Burst: 1},
		{Prefix: "/activities", Limit: 10, Burst: 30},
		{Prefix: "/dv/init-query", Limit: perMin(1), Burst: 1},
		{Prefix: "/dv/query-status", Limit: 1, Burst: 1},
		{Prefix: "/dv/events/pq", Limit: 4, Burst: 1},
		{Prefix: "/dv/events/pq-ping", Limit: 4, Burst: 1},
		{Prefix: "/threat-intelligence", Limit: perMin(30), Burst: 1},
		{Prefix: "/exclusions", Limit: 25, Burst: 25},
		{Prefix: "/sites", Limit: 100, Burst: 10},
		{Prefix: "/accounts", Limit: 100, Burst: 10},
		{Prefix: "/cloud-detection/rules", Limit: perMin(30), Burst: 1},
		{Prefix: "/remote-scripts", Limit: 1, Burst: 30},
		{Prefix: "/export", Limit: 1, Burst: 30},
		{Prefix: "/service-users", Limit: 5, Burst: 10},
		{Prefix: "/system/status", Limit: 1, Burst: 1},
		{Prefix: "/users/login", Limit: 1, Burst: 1},
		{Prefix: "/update/agent/download", Limit: perMin(2), Burst: 1},
	}
}
