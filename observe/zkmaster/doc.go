// Package zkmaster finds the leading Mesos master through ZooKeeper.
//
// Mesos masters contend for leadership under one ZooKeeper path (the path of
// the master's --zk URL). Each master holds an ephemeral sequential child
// named "json.info_<sequence>" whose data is its MasterInfo as JSON; the child
// with the lowest sequence is the leader. When the leader dies its node
// vanishes and the next one leads.
//
// Watch follows that group and sends the leader every time it changes; a
// zero Leader means no master leads at the moment (an election is under
// way). The caller resubscribes to the new leader when it changes.
package zkmaster
