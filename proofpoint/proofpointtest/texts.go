package proofpointtest

import "fmt"

// Answers of the fake. The first three 400 texts are TAP's, as recorded in
// public bug reports; the texts marked unconfirmed are the fake's own
// wording for cases whose live text is not on record.
const (
	// TextIntervalTooShort: window under 30 seconds (TAP's text).
	TextIntervalTooShort = "The requested interval is too short. Requests must be for at least 30.00s of data"
	// TextIntervalCurrent: window ending too close to now (TAP's text).
	TextIntervalCurrent = "The requested interval is still current."
	// TextIntervalTooLong: window over one hour (unconfirmed).
	TextIntervalTooLong = "The requested interval is too long. Requests must be for at most 1.00h of data"
	// TextMissingTime: no time parameter (unconfirmed).
	TextMissingTime = "One of interval, sinceTime or sinceSeconds is required"
	// TextTooManyTimes: more than one time parameter (unconfirmed).
	TextTooManyTimes = "Only one of interval, sinceTime or sinceSeconds may be given"
	// TextBadInterval: unparseable interval (unconfirmed).
	TextBadInterval = "The interval parameter is not a valid ISO8601 interval"
	// TextBadSinceTime: unparseable sinceTime (unconfirmed).
	TextBadSinceTime = "The sinceTime parameter is not a valid ISO8601 date"
	// TextBadSinceSeconds: sinceSeconds not a positive integer (unconfirmed).
	TextBadSinceSeconds = "The sinceSeconds parameter must be a positive integer"
	// TextBadFormat: format other than json or syslog (unconfirmed).
	TextBadFormat = "The format parameter must be json or syslog"
	// TextSyslogUnsupported: the fake serves JSON only.
	TextSyslogUnsupported = "The fake serves format=json only"
	// TextBadThreatType and TextBadThreatStatus: unknown filter value
	// (unconfirmed).
	TextBadThreatType   = "Invalid threatType value"
	TextBadThreatStatus = "Invalid threatStatus value"
	// TextForensicsParams: neither or both of threatId and campaignId
	// (unconfirmed).
	TextForensicsParams = "Exactly one of threatId or campaignId must be given"
	// TextForensicsInclude: includeCampaignForensics without threatId or
	// not a boolean (unconfirmed).
	TextForensicsInclude = "includeCampaignForensics must be true or false and is only valid with threatId"
	// TextCampaignInterval: campaign ids interval missing, unparseable,
	// shorter than 30 seconds or longer than a day (unconfirmed).
	TextCampaignInterval = "The interval must be between 30 seconds and 1 day"
	// TextPaging: size outside 1..200 or page below 1 (unconfirmed).
	TextPaging = "size must be between 1 and 200 and page at least 1"
	// TextWindow: people window other than 14, 30 or 90 (unconfirmed).
	TextWindow = "window must be one of 14, 30 or 90"
	// TextDecodeBody: url/decode body without a urls list (unconfirmed).
	TextDecodeBody = "The request body must be a JSON object with a urls list"

	textUnauthorized = "Unauthorized"
	textForbidden    = "Forbidden"
	textThrottled    = "Too Many Requests"
	textNotFound     = "Not Found"
)

// TextStartTooOld is TAP's text for a window starting before the look-back
// limit, days written with two decimals ("7.00d").
func TextStartTooOld(lookBackDays float64) string {
	return fmt.Sprintf("The requested start time is too far into the past. Requests for information up to %.2fd are accepted", lookBackDays)
}
