package sentinelone

import "context"

// agentAction posts /agents/actions/{action} after refusing filters that
// select every agent in scope.
func (s *AgentsService) agentAction(ctx context.Context, op, action string, filter AgentFilter, data any) (int, error) {
	if err := checkSelective(op, filter); err != nil {
		return 0, err
	}
	if data == nil {
		data = struct{}{}
	}
	return s.c.action(ctx, op, "/agents/actions/{}", []string{action}, actionBody{Filter: filter, Data: data})
}

// Disconnect isolates the selected agents from the network and returns how
// many were affected.
//
// API: POST /agents/actions/disconnect
func (s *AgentsService) Disconnect(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.Disconnect", "disconnect", filter, nil)
}

// Connect lifts network isolation of the selected agents.
//
// API: POST /agents/actions/connect
func (s *AgentsService) Connect(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.Connect", "connect", filter, nil)
}

// Shutdown shuts the selected endpoints down.
//
// API: POST /agents/actions/shutdown
func (s *AgentsService) Shutdown(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.Shutdown", "shutdown", filter, nil)
}

// RestartMachine reboots the selected endpoints.
//
// API: POST /agents/actions/restart-machine
func (s *AgentsService) RestartMachine(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.RestartMachine", "restart-machine", filter, nil)
}

// InitiateScan starts a full disk scan on the selected agents.
//
// API: POST /agents/actions/initiate-scan
func (s *AgentsService) InitiateScan(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.InitiateScan", "initiate-scan", filter, nil)
}

// AbortScan stops running disk scans on the selected agents.
//
// API: POST /agents/actions/abort-scan
func (s *AgentsService) AbortScan(ctx context.Context, filter AgentFilter) (int, error) {
	return s.agentAction(ctx, "Agents.AbortScan", "abort-scan", filter, nil)
}

// Broadcast shows message to the users of the selected endpoints.
//
// API: POST /agents/actions/broadcast
func (s *AgentsService) Broadcast(ctx context.Context, filter AgentFilter, message string) (int, error) {
	if message == "" {
		return 0, invalidf("Agents.Broadcast", "empty message")
	}
	return s.agentAction(ctx, "Agents.Broadcast", "broadcast", filter, map[string]string{"message": message})
}
