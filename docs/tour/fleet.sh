#!/bin/sh
# The fleet tour of docs/fleet.md, run in the VM:
#   go run ./tools/vmrun bench -kernel 6.1 docs/tour/fleet.sh
# etcd on loopback, three directors (namespaces lb1-lb3, agents with --netns),
# each with its own copy of the two real servers.
set -e
IP=/usr/sbin/ip-full
cd /tmp
etcdserver --name tour --data-dir /tmp/etcd --listen-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 2>/tmp/etcd.log &
sleep 3
i=1
for d in lb1 lb2 lb3; do
  $IP netns add $d; $IP -n $d link set lo up
  $IP netns add rs$i; $IP -n rs$i link set lo up
  $IP link add v$d type veth peer name r$d
  $IP link set v$d netns $d; $IP link set r$d netns rs$i
  $IP -n $d addr add 10.9.0.1/24 dev v$d; $IP -n $d link set v$d up
  $IP -n rs$i addr add 10.9.0.2/24 dev r$d; $IP -n rs$i addr add 10.9.0.3/24 dev r$d; $IP -n rs$i link set r$d up
  mkdir -p /tmp/www; echo ok > /tmp/www/index.html
  $IP netns exec rs$i busybox httpd -p 10.9.0.2:80 -h /tmp/www
  $IP netns exec rs$i busybox httpd -p 10.9.0.3:80 -h /tmp/www
  i=$((i+1))
done
labels() { case $1 in lb3) echo group=canary;; *) echo group=main;; esac; }
i=1
for d in lb1 lb2 lb3; do
  ipvsctl --netns $d agent --etcd http://127.0.0.1:2379 --name $d --labels $(labels $d) --listen 127.0.0.1:944$i 2>/tmp/$d.log &
  i=$((i+1))
done
sleep 2
E="--etcd http://127.0.0.1:2379"
cat > /tmp/lb.yaml <<'DOC'
apiVersion: ipvsctl/v1
services:
  - protocol: tcp
    address: 192.0.2.10
    port: 80
    scheduler: mh
    healthCheck: {type: http, path: /, interval: 1s, timeout: 500ms, rise: 1, fall: 2}
    destinations:
      - {address: 10.9.0.2, forward: masq}
      - {address: 10.9.0.3, forward: masq}
DOC
echo '$ ipvsctl fleet $E push -f lb.yaml'
ipvsctl fleet $E push -f /tmp/lb.yaml 2>&1 | sed 's|/tmp/||'
sleep 5
echo '$ ipvsctl fleet $E status'
ipvsctl fleet $E status 2>&1
sed 's/10.9.0.3, forward: masq}/10.9.0.3, forward: masq, weight: 3}/' /tmp/lb.yaml > /tmp/lb-new.yaml
echo '$ ipvsctl fleet $E diff -f lb-new.yaml'
ipvsctl fleet $E diff -f /tmp/lb-new.yaml 2>&1 | sed 's|/tmp/||' || true
echo '$ ipvsctl fleet $E rollout -f lb-new.yaml --canary group=canary --settle 3s --timeout 1m'
ipvsctl fleet $E rollout -f /tmp/lb-new.yaml --canary group=canary --settle 3s --timeout 1m 2>&1 | sed 's|/tmp/||' || true
sleep 3
echo '$ ipvsctl fleet $E status'
ipvsctl fleet $E status 2>&1
echo '$ ipvsctl agent status --listen 127.0.0.1:9441'
ipvsctl agent status --listen 127.0.0.1:9441
echo '--- the log of lb1'
cat /tmp/lb1.log
kill %1 2>/dev/null || true
