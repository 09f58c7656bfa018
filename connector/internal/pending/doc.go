// Package pending serialises a responder's actions per target (a device, an
// agent) and remembers the actions it requested that the vendor has not
// applied yet.
//
// Vendors such as Carbon Black (device_actions answers 204 and applies the
// change when the sensor checks in) and SentinelOne (agent actions) act
// asynchronously: right after a quarantine request the device still reads as
// not quarantined. A responder that reads the state first, as every device
// responder does, would then ask again for the next file seen on the same
// device, or for the same file after an answer was lost. Actions run fn under
// a per-target lock with what this process requested for the target within
// the hold time: fn reports Unchanged for a request that succeeded, and asks
// the engine to come back later for one whose outcome is unknown.
package pending
