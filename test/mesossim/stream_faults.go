package mesossim

// DropStreams breaks the event stream of every subscribed framework, as a
// network blip between scheduler and master does. The master handles it as
// Mesos' Master::exited does for an HTTP framework whose connection closed
// (master.cpp, _exited): the framework is disconnected, its offers are
// rescinded and its failover timeout starts; its tasks keep running. The
// scheduler sees its stream end and must subscribe again. It returns how
// many streams it broke.
func (c *Cluster) DropStreams() int {
	m := c.m
	m.mu.Lock()
	defer m.unlock()
	n := 0
	for _, fw := range m.frameworks {
		if fw.stream != nil {
			fw.stream.close()
			m.disconnectLocked(fw)
			n++
		}
	}
	m.log.Info("event streams dropped", "streams", n)
	return n
}
