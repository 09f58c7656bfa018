package main

import (
	"net/url"
	"strconv"
	"strings"
)

// Console links. They follow the consoles' URL patterns for deep links;
// the base is the configured console URL (default: the API URL, which for
// Carbon Black Cloud and SentinelOne is the console's host).

// cbConsole is the Carbon Black console base.
func (a *App) cbConsole() string {
	return consoleURL(a.cfg.CarbonBlack.ConsoleURL, a.cfg.CarbonBlack.URL)
}

// cbAlertLink links an alert: its own alert_url when Carbon Black sent one
// (sometimes without a scheme), else an alert search by id.
func (a *App) cbAlertLink(id, alertURL string) string {
	if alertURL != "" && strings.Contains(alertURL, ".") {
		if !strings.Contains(alertURL, "://") {
			alertURL = "https://" + alertURL
		}
		return alertURL
	}
	return a.cbConsole() + "/alerts?s[c][query_string]=" + url.QueryEscape("id:"+id)
}

// cbDeviceLink links a device in the endpoint inventory.
func (a *App) cbDeviceLink(id int64) string {
	return a.cbConsole() + "/inventory/endpoints?s[c][query_string]=" + url.QueryEscape("id:"+strconv.FormatInt(id, 10))
}

// cbProcessLink links a process in the process analysis view.
func (a *App) cbProcessLink(guid string) string {
	return a.cbConsole() + "/analyze?processGUID=" + url.QueryEscape(guid)
}

// cbHashLink links a process search for a file.
func (a *App) cbHashLink(sha string) string {
	return a.cbConsole() + "/investigate/processes?query=" + url.QueryEscape("process_hash:"+sha)
}

// s1Console is the SentinelOne console base.
func (a *App) s1Console() string {
	return consoleURL(a.cfg.SentinelOne.ConsoleURL, a.cfg.SentinelOne.URL)
}

// s1ThreatLink links a threat's overview.
func (a *App) s1ThreatLink(id string) string {
	return a.s1Console() + "/incidents/threats/" + url.PathEscape(id) + "/overview"
}

// s1AgentLink links an endpoint's overview.
func (a *App) s1AgentLink(id string) string {
	return a.s1Console() + "/endpoints/devices/" + url.PathEscape(id) + "/overview"
}

// tapDefaultLink is the TAP dashboard, for events without a threat link.
const tapDefaultLink = "https://threatinsight.proofpoint.com/"
