package standin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// loopState belongs to the health loop goroutine alone.
type loopState struct {
	// assigned remembers device IDs handed out for a path, so that a device
	// whose QUOBYTE_DEV_ID cannot be written is not registered again and again.
	assigned    map[string]string
	registered  time.Time
	registry    string
	sawRegistry bool   // api, webconsole, s3, client: a registry answered once
	lastWarn    string // last warning logged, so that a repeat stays silent
}

// healthLoop evaluates health at once and then every PollInterval.
func (s *Service) healthLoop(ctx context.Context) {
	ls := &loopState{assigned: make(map[string]string)}
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		healthy, reason := s.evaluate(ctx, ls)
		if ctx.Err() != nil {
			return
		}
		s.publish(healthy, reason)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// evaluate decides health once. The order mirrors the real service: a
// device first, then the cluster (majority, registration, catch-up), and the
// never-healthy fault last, so that a faulty version still joins the cluster.
func (s *Service) evaluate(ctx context.Context, ls *loopState) (bool, string) {
	kind := s.cfg.Service
	var devs []Device
	if typ := kind.DeviceType(); typ != "" {
		found, err := FindDevices(s.cfg.DeviceRoot, typ)
		for i := range found {
			if found[i].ID == "" {
				found[i].ID = ls.assigned[found[i].Path]
			}
		}
		devs = found
		s.update(func(st *Status) { st.Devices = append([]Device(nil), found...) })
		if len(devs) == 0 {
			root := s.cfg.DeviceRoot
			if root == "" {
				root = "(no device root: QUOBYTE_DEVICE_ROOT and MESOS_SIM_HOST_DIR unset)"
			}
			reason := fmt.Sprintf("no %s device under %s", typ, root)
			if err != nil {
				reason += ": " + err.Error()
			}
			return false, reason
		}
	}

	switch kind {
	case Registry:
		peers := s.pingAll(ctx)
		s.update(func(st *Status) { st.Peers = peers })
		reachable, total := majority(peers)
		if 2*reachable <= total {
			return false, fmt.Sprintf("%d of %d registries reachable, need %d", reachable, total, total/2+1)
		}
		s.assignLocal(ls, devs)
	case Metadata, Data:
		if ok, reason := s.registerDevices(ctx, ls, devs); !ok {
			return false, reason
		}
		if since := time.Since(ls.registered); since < s.cfg.Catchup {
			return false, fmt.Sprintf("catching up with registry %s for %s", ls.registry, s.cfg.Catchup)
		}
	default:
		if !ls.sawRegistry {
			peers := s.pingAll(ctx)
			s.update(func(st *Status) { st.Peers = peers })
			for _, p := range peers {
				if p.Reachable {
					ls.sawRegistry = true
				}
			}
			if !ls.sawRegistry {
				return false, "no registry reachable at " + strings.Join(s.cfg.Registries, ",")
			}
		}
	}

	if v := s.cfg.NeverHealthyVersion; v != "" && s.cfg.Version == v {
		return false, fmt.Sprintf("version %q never becomes healthy (STANDIN_NEVER_HEALTHY_VERSION)", v)
	}
	return true, "healthy"
}

// majority counts reachable registries among the listed ones, counting this
// registry once whether or not its own address is listed.
func majority(peers []Peer) (reachable, total int) {
	selfListed := false
	for _, p := range peers {
		if p.Self {
			if selfListed {
				// The same process under a second name counts once.
				continue
			}
			selfListed = true
		}
		total++
		if p.Reachable && !p.Self {
			reachable++
		}
	}
	if !selfListed {
		total++
	}
	return reachable + 1, total
}

// pingAll pings every listed registry at once.
func (s *Service) pingAll(ctx context.Context) []Peer {
	peers := make([]Peer, len(s.cfg.Registries))
	var wg sync.WaitGroup
	for i, addr := range s.cfg.Registries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := Peer{Addr: addr}
			pg, err := ping(ctx, addr)
			switch {
			case err != nil:
				p.Err = err.Error()
			case pg.kind != Registry:
				p.Err = fmt.Sprintf("answered as %s, not a registry", pg.kind)
			default:
				p.Reachable = true
				p.Version = pg.version
				p.Self = pg.instance == s.instance
			}
			peers[i] = p
		}()
	}
	wg.Wait()
	return peers
}

// assignLocal gives a registry's own devices IDs from its own counter.
func (s *Service) assignLocal(ls *loopState, devs []Device) {
	var need []Device
	for _, d := range devs {
		if d.ID == "" {
			need = append(need, d)
		}
	}
	if len(need) == 0 {
		return
	}
	s.storeIDs(ls, need, s.newDeviceIDs(len(need)), "local registry")
}

// registerDevices registers a metadata or data service with the first
// registry that takes it, asking IDs for devices that have none. Once
// registered, a failure to register a new device is logged, not fatal.
func (s *Service) registerDevices(ctx context.Context, ls *loopState, devs []Device) (bool, string) {
	var need []Device
	for _, d := range devs {
		if d.ID == "" {
			need = append(need, d)
		}
	}
	if !ls.registered.IsZero() && len(need) == 0 {
		return true, ""
	}
	var errs []string
	for _, addr := range s.cfg.Registries {
		ids, err := register(ctx, addr, s.cfg.Service, s.addrs[PortRPC], len(need))
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if ls.registered.IsZero() {
			ls.registered, ls.registry = time.Now(), addr
			s.update(func(st *Status) { st.Registry, st.Registered = addr, ls.registered })
			s.log.Info("registered", "registry", addr, "catchup", s.cfg.Catchup)
		}
		s.storeIDs(ls, need, ids, addr)
		return true, ""
	}
	reason := "no registry took the registration: " + strings.Join(errs, "; ")
	if ls.registered.IsZero() {
		return false, reason
	}
	s.warnOnce(ls, "cannot register new device", reason)
	return true, ""
}

// storeIDs writes QUOBYTE_DEV_ID for each device, as the real service does
// after registration. A write failure is logged; the ID is kept in memory.
func (s *Service) storeIDs(ls *loopState, devs []Device, ids []string, from string) {
	for i, d := range devs {
		ls.assigned[d.Path] = ids[i]
		if err := writeDeviceID(d.Path, ids[i]); err != nil {
			s.warnOnce(ls, "cannot write device id", err.Error())
			continue
		}
		s.log.Info("device registered", "device", d.Path, "device_id", ids[i], "by", from)
	}
	s.update(func(st *Status) {
		for i, d := range st.Devices {
			if d.ID == "" {
				st.Devices[i].ID = ls.assigned[d.Path]
			}
		}
	})
}

func (s *Service) warnOnce(ls *loopState, msg, detail string) {
	if key := msg + detail; key != ls.lastWarn {
		ls.lastWarn = key
		s.log.Warn(msg, "error", detail)
	}
}
