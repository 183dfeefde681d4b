module github.com/quobyte/quobyte-mesos

go 1.26.8
