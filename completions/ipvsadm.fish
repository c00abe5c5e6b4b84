# fish completion for ipvsadm, ipvsadm-save and ipvsadm-restore (ipvs-tools)
#
# Install as ipvsadm.fish (and ipvsadm-save.fish, ipvsadm-restore.fish
# linking to it) in a directory of $fish_complete_path, e.g.
# /usr/share/fish/vendor_completions.d. The logic is the bash script's:
# after a command only the options it accepts (ipvsadm's command/option
# matrix below) and not yet given; scheduler names, tunnel types, -b flag
# words, master|backup, interfaces, and service and real-server addresses
# of the live table (ipvsadm -Sn, at most one second, silently nothing on
# failure).

function __ipvsadm_row --description 'ipvsadm completion: one table row'
    set -g __ipvsadm_$argv[1]_(string replace -a -- - _ $argv[2]) (string split -n -- ' ' $argv[3])
    set -g -a __ipvsadm_$argv[1] $argv[2]
end

for __ipvsadm_t in matrix commands options
    set -e __ipvsadm_$__ipvsadm_t
end
set -e __ipvsadm_t

# The command/option matrix: per command the options it accepts, by
# ipvsadm's option names; "+" required, "1" at most one of these.
# completions/completions_test.go checks the rows against ipvsadmargs.
# matrix:begin
__ipvsadm_row matrix add-service '+service-address scheduler persistent netmask ops pe sched-flags'
__ipvsadm_row matrix edit-service '+service-address scheduler persistent netmask ops pe sched-flags'
__ipvsadm_row matrix delete-service '+service-address'
__ipvsadm_row matrix flush ''
__ipvsadm_row matrix list 'numeric 1connection 1service-address 1timeout 1daemon stats rate thresholds persistent-conn nosort syncid exact tun-info'
__ipvsadm_row matrix add-server '+service-address +real-server forwarding-method weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum'
__ipvsadm_row matrix delete-server '+service-address +real-server'
__ipvsadm_row matrix edit-server '+service-address +real-server forwarding-method weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum'
__ipvsadm_row matrix set ''
__ipvsadm_row matrix start-daemon 'mcast-interface syncid mcast-group mcast-port mcast-ttl sync-maxlen'
__ipvsadm_row matrix stop-daemon 'syncid'
__ipvsadm_row matrix restore ''
__ipvsadm_row matrix save 'numeric'
__ipvsadm_row matrix zero 'service-address'
# matrix:end

# How each command is typed; ":" marks a value.
# commands:begin
__ipvsadm_row commands add-service '-A --add-service'
__ipvsadm_row commands edit-service '-E --edit-service'
__ipvsadm_row commands delete-service '-D --delete-service'
__ipvsadm_row commands flush '-C --clear'
__ipvsadm_row commands list '-L -l --list'
__ipvsadm_row commands add-server '-a --add-server'
__ipvsadm_row commands delete-server '-d --delete-server'
__ipvsadm_row commands edit-server '-e --edit-server'
__ipvsadm_row commands set '--set'
__ipvsadm_row commands start-daemon '--start-daemon:'
__ipvsadm_row commands stop-daemon '--stop-daemon:'
__ipvsadm_row commands restore '-R --restore'
__ipvsadm_row commands save '-S --save'
__ipvsadm_row commands zero '-Z --zero'
__ipvsadm_row commands help '-h --help'
__ipvsadm_row commands version '-v --version'
# commands:end

# How each option is typed; ":" marks a value, "::" an optional one.
# options:begin
__ipvsadm_row options numeric '-n --numeric'
__ipvsadm_row options connection '-c --connection'
__ipvsadm_row options service-address '-t: --tcp-service: -u: --udp-service: --sctp-service: -f: --fwmark-service:'
__ipvsadm_row options scheduler '-s: --scheduler:'
__ipvsadm_row options persistent '-p:: --persistent::'
__ipvsadm_row options netmask '-M: --netmask:'
__ipvsadm_row options real-server '-r: --real-server:'
__ipvsadm_row options forwarding-method '-g --gatewaying -i --ipip -m --masquerading'
__ipvsadm_row options weight '-w: --weight:'
__ipvsadm_row options u-threshold '-x: --u-threshold:'
__ipvsadm_row options l-threshold '-y: --l-threshold:'
__ipvsadm_row options mcast-interface '--mcast-interface:'
__ipvsadm_row options timeout '--timeout'
__ipvsadm_row options daemon '--daemon'
__ipvsadm_row options stats '--stats'
__ipvsadm_row options rate '--rate'
__ipvsadm_row options thresholds '--thresholds'
__ipvsadm_row options persistent-conn '--persistent-conn'
__ipvsadm_row options nosort '--nosort'
__ipvsadm_row options syncid '--syncid:'
__ipvsadm_row options exact '-X --exact'
__ipvsadm_row options ops '-o --ops'
__ipvsadm_row options pe '--pe:'
__ipvsadm_row options sched-flags '-b: --sched-flags:'
__ipvsadm_row options mcast-group '--mcast-group:'
__ipvsadm_row options mcast-port '--mcast-port:'
__ipvsadm_row options mcast-ttl '--mcast-ttl:'
__ipvsadm_row options sync-maxlen '--sync-maxlen:'
__ipvsadm_row options tun-info '--tun-info'
__ipvsadm_row options tun-type '--tun-type:'
__ipvsadm_row options tun-port '--tun-port:'
__ipvsadm_row options tun-nocsum '--tun-nocsum'
__ipvsadm_row options tun-csum '--tun-csum'
__ipvsadm_row options tun-remcsum '--tun-remcsum'
__ipvsadm_row options ipv6 '-6 --ipv6'
__ipvsadm_row options sort '--sort'
# options:end

set -g __ipvsadm_schedulers rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh
set -g __ipvsadm_tun_types ipip gue gre
set -g __ipvsadm_sched_flags flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port

function __ipvsadm_descr --argument-names key
    switch $key
        case add-service
            echo 'add a virtual service'
        case edit-service
            echo 'change a virtual service (unset options reset)'
        case delete-service
            echo 'delete a virtual service'
        case flush
            echo 'delete every virtual service'
        case list
            echo 'list the table'
        case add-server
            echo 'add a real server'
        case delete-server
            echo 'delete a real server'
        case edit-server
            echo 'change a real server (unset options reset)'
        case set
            echo 'set the tcp, tcpfin and udp timeouts'
        case start-daemon
            echo 'start a connection sync daemon'
        case stop-daemon
            echo 'stop a connection sync daemon'
        case restore
            echo 'run the commands on standard input'
        case save
            echo 'print the table as commands'
        case zero
            echo 'zero the counters'
        case help
            echo 'print the usage'
        case version
            echo 'print the version'
        case numeric
            echo 'numeric addresses and ports'
        case connection
            echo 'list connections'
        case -t --tcp-service
            echo 'TCP service'
        case -u --udp-service
            echo 'UDP service'
        case --sctp-service
            echo 'SCTP service'
        case -f --fwmark-service
            echo 'firewall-mark service'
        case -g --gatewaying
            echo 'direct routing (default)'
        case -i --ipip
            echo tunnelling
        case -m --masquerading
            echo 'NAT (masquerading)'
        case scheduler
            echo 'scheduler (default wlc)'
        case persistent
            echo 'persistent service [timeout, default 360 s]'
        case netmask
            echo 'persistence granularity mask'
        case real-server
            echo 'real server address[:port]'
        case weight
            echo 'weight 0..2147483647 (default 1)'
        case u-threshold
            echo 'upper connection threshold'
        case l-threshold
            echo 'lower connection threshold'
        case mcast-interface
            echo 'sync daemon interface (default eth0)'
        case timeout
            echo 'list the timeouts'
        case daemon
            echo 'list the sync daemons'
        case stats
            echo 'list counters'
        case rate
            echo 'list rates'
        case thresholds
            echo 'list thresholds'
        case persistent-conn
            echo 'list persistent connections'
        case nosort
            echo 'do not sort'
        case syncid
            echo 'sync ID 0..255 (default 0)'
        case exact
            echo 'exact numbers'
        case ops
            echo 'one-packet scheduling (UDP)'
        case pe
            echo 'persistence engine'
        case sched-flags
            echo 'scheduler flags'
        case mcast-group
            echo 'sync multicast group'
        case mcast-port
            echo 'sync UDP port'
        case mcast-ttl
            echo 'sync multicast TTL'
        case sync-maxlen
            echo 'largest sync message'
        case tun-info
            echo 'list tunnel settings'
        case tun-type
            echo 'tunnel type (default ipip)'
        case tun-port
            echo 'GUE destination port'
        case tun-nocsum
            echo 'no tunnel checksum'
        case tun-csum
            echo 'tunnel checksum'
        case tun-remcsum
            echo 'remote tunnel checksum'
        case ipv6
            echo 'IPv6 firewall-mark service'
    end
end

# __ipvsadm_lookup TABLE WORD: prints the key of TABLE with the spelling
# WORD and its value marker ("-" for none, ":" or "::").
function __ipvsadm_lookup --argument-names table word
    set -l keys __ipvsadm_$table
    for key in $$keys
        set -l var __ipvsadm_{$table}_(string replace -a -- - _ $key)
        for spelling in $$var
            if test (string replace -r -- ':.*' '' $spelling) = "$word"
                set -l arg (string replace -- "$word" '' $spelling)
                test -n "$arg"; or set arg -
                echo $key $arg
                return 0
            end
        end
    end
    return 1
end

# __ipvsadm_spellings TABLE KEY: the spellings of KEY, without markers.
function __ipvsadm_spellings --argument-names table key
    set -l var __ipvsadm_{$table}_(string replace -a -- - _ $key)
    string replace -r -- ':.*' '' $$var
end

# __ipvsadm_given NAME: whether option NAME is on the line; with a second
# argument, whether it was typed that way.
function __ipvsadm_given
    for g in $__ipvsadm_g_given
        set -l kv (string split -m 1 -- = $g)
        if test "$kv[1]" = $argv[1]
            if test (count $argv) -lt 2; or contains -- $kv[2] $argv[2..-1]
                return 0
            end
        end
    end
    return 1
end

# __ipvsadm_value NAME: the value given to option NAME.
function __ipvsadm_value
    for g in $__ipvsadm_g_values
        set -l kv (string split -m 1 -- = $g)
        if test "$kv[1]" = $argv[1]
            echo $kv[2]
            return 0
        end
    end
    return 1
end

function __ipvsadm_live
    if not set -q __ipvsadm_g_live
        set -g __ipvsadm_g_live (timeout 1 $__ipvsadm_g_prog -Sn 2>/dev/null </dev/null)
        or set -g __ipvsadm_g_live
    end
    string join \n -- $__ipvsadm_g_live
end

# __ipvsadm_allowed NAME: ipvsadm's checks beyond the matrix.
function __ipvsadm_allowed --argument-names name
    set -l tt (__ipvsadm_value tun-type)
    switch $name
        case stats rate thresholds
            not __ipvsadm_given connection; and not __ipvsadm_given timeout; and not __ipvsadm_given daemon
        case persistent-conn
            not __ipvsadm_given timeout; and not __ipvsadm_given daemon
        case connection
            not __ipvsadm_given stats; and not __ipvsadm_given rate; and not __ipvsadm_given thresholds
        case timeout daemon
            not __ipvsadm_given stats; and not __ipvsadm_given rate; and not __ipvsadm_given thresholds
            and not __ipvsadm_given persistent-conn
        case 'tun-*'
            if __ipvsadm_given forwarding-method; and not __ipvsadm_given forwarding-method -i --ipip
                return 1
            end
            switch $name
                case tun-port
                    test -z "$tt" -o "$tt" = gue
                case '*'
                    test "$tt" != ipip; or return 1
                    not __ipvsadm_given tun-nocsum; and not __ipvsadm_given tun-csum; and not __ipvsadm_given tun-remcsum
                    or return 1
                    test $name != tun-remcsum -o "$tt" != gre
            end
        case '*'
            return 0
    end
end

# __ipvsadm_values CMD NAME OPT CUR: the values for option NAME, typed as
# OPT, the current word being CUR.
function __ipvsadm_values --argument-names cmd name opt cur
    set -l sched (__ipvsadm_value scheduler)
    switch $name
        case scheduler
            string join \n -- $__ipvsadm_schedulers
        case tun-type
            string join \n -- $__ipvsadm_tun_types
        case pe
            echo sip
        case sched-flags
            set -l head ''
            if string match -q -- '*,*' $cur
                set head (string replace -r -- ',[^,]*$' ',' $cur)
            end
            for f in $__ipvsadm_sched_flags
                if string match -q -- 'sh-*' $f; and test -n "$sched" -a "$sched" != sh
                    continue
                end
                if string match -q -- 'mh-*' $f; and test -n "$sched" -a "$sched" != mh
                    continue
                end
                contains -- $f (string split , -- $head); and continue
                echo $head$f
            end
        case mcast-interface
            for d in /sys/class/net/*
                basename $d
            end
        case service-address
            test $cmd = add-service; and return
            set -l f
            switch $opt
                case -t --tcp-service
                    set f -t
                case -u --udp-service
                    set f -u
                case --sctp-service
                    set f --sctp-service
                case -f --fwmark-service
                    set f -f
            end
            for line in (__ipvsadm_live)
                set -l w (string split -n -- ' ' $line)
                if test "$w[1]" = -A; and test "$w[2]" = "$f"
                    echo $w[3]
                end
            end
        case real-server
            contains -- $cmd edit-server delete-server; or return
            set -l svc (__ipvsadm_value service-address)
            for line in (__ipvsadm_live)
                set -l w (string split -n -- ' ' $line)
                test "$w[1]" = -a; and test "$w[4]" = -r; or continue
                if test -z "$svc"; or test "$w[3]" = "$svc"
                    echo $w[5]
                end
            end
    end
end

# __ipvsadm_complete: every candidate for the current word, with its
# description after a tab.
function __ipvsadm_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -g __ipvsadm_g_prog $tokens[1]
    set -g __ipvsadm_g_given
    set -g __ipvsadm_g_values
    set -e __ipvsadm_g_live
    set -l n (count $tokens)
    if test $n -eq 1
        for key in $__ipvsadm_commands
            for s in (__ipvsadm_spellings commands $key)
                printf '%s\t%s\n' $s (__ipvsadm_descr $key)
            end
        end
        return
    end
    set -l w $tokens[2]
    if string match -q -- '--*' $w
        set w (string replace -r -- '=.*' '' $w)
    else if string match -qr -- '^-[^-]' $w
        set w (string sub -l 2 -- $w)
    end
    set -l r (string split -- ' ' (__ipvsadm_lookup commands $w)); or return
    set -l cmd $r[1]
    switch $cmd
        case help version
            return
        case start-daemon stop-daemon
            if test $n -eq 2; and not string match -q -- '*=*' $tokens[2]
                printf '%s\n' master backup
                return
            end
    end
    set -l pending ''
    set -l rest
    for i in (seq 2 $n)
        set w $tokens[$i]
        if test -n "$pending"
            set -a __ipvsadm_g_values $pending=$w
            set pending ''
            continue
        end
        if test $i -eq 2
            string match -qr -- '^-[^-].' $w; or continue
            set rest (string sub -s 3 -- $w)
        else if string match -qr -- '^--.' $w
            set -l o (string replace -r -- '=.*' '' $w)
            set r (string split -- ' ' (__ipvsadm_lookup options $o)); or continue
            set -a __ipvsadm_g_given $r[1]=$o
            if string match -q -- '*=*' $w
                set -a __ipvsadm_g_values $r[1]=(string replace -r -- '^[^=]*=' '' $w)
            else if test "$r[2]" = :
                set pending $r[1]
            else if test "$r[2]" = ::; and test $i -lt $n; and not string match -q -- '-*' $tokens[(math $i + 1)]
                set pending $r[1]
            end
            continue
        else if string match -qr -- '^-.' $w
            set rest (string sub -s 2 -- $w)
        else
            continue
        end
        while test -n "$rest"
            set -l c (string sub -l 1 -- $rest)
            set rest (string sub -s 2 -- $rest)
            set r (string split -- ' ' (__ipvsadm_lookup options -$c)); or break
            set -a __ipvsadm_g_given $r[1]=-$c
            if string match -q -- ':*' $r[2]
                set rest (string replace -r -- '^=' '' $rest)
                if test -n "$rest"
                    set -a __ipvsadm_g_values $r[1]=$rest
                else if test "$r[2]" = :
                    set pending $r[1]
                else if test $i -lt $n; and not string match -q -- '-*' $tokens[(math $i + 1)]
                    set pending $r[1]
                end
                break
            end
        end
    end
    set -l opt
    set -l prefix ''
    set -l value $cur
    if test -z "$pending"; and string match -q -- '--*=*' $cur
        set opt (string replace -r -- '=.*' '' $cur)
        set r (string split -- ' ' (__ipvsadm_lookup options $opt)); or return
        set pending $r[1]
        set prefix $opt=
        set value (string replace -r -- '^[^=]*=' '' $cur)
    else if test -n "$pending"
        for g in $__ipvsadm_g_given
            set -l kv (string split -m 1 -- = $g)
            test "$kv[1]" = $pending; and set opt $kv[2]
        end
    end
    if test -n "$pending"
        for v in (__ipvsadm_values $cmd $pending "$opt" "$value")
            echo $prefix$v
        end
        return
    end
    # The optional timeout of -p: nothing to offer.
    if test -n "$cur"; and not string match -q -- '-*' $cur
        return
    end
    set -l row __ipvsadm_matrix_(string replace -a -- - _ $cmd)
    set -l excl ''
    for entry in $$row
        if string match -q -- '1*' $entry; and __ipvsadm_given (string sub -s 2 -- $entry)
            set excl 1
        end
    end
    for entry in $$row
        set -l name (string replace -r -- '^[+1]' '' $entry)
        __ipvsadm_given $name; and continue
        string match -q -- '1*' $entry; and test -n "$excl"; and continue
        __ipvsadm_allowed $name; or continue
        set -l d (__ipvsadm_descr $name)
        for s in (__ipvsadm_spellings options $name)
            set -l ds (__ipvsadm_descr $s)
            test -n "$ds"; or set ds $d
            printf '%s\t%s\n' $s $ds
        end
    end
    if __ipvsadm_given service-address -f --fwmark-service; and not __ipvsadm_given ipv6
        printf '%s\t%s\n' -6 (__ipvsadm_descr ipv6) --ipv6 (__ipvsadm_descr ipv6)
    end
end

complete -c ipvsadm -e
complete -c ipvsadm -f -a '(__ipvsadm_complete)'

complete -c ipvsadm-save -e
complete -c ipvsadm-save -f -n 'not __fish_seen_argument -s n' -s n -d 'numeric addresses and ports'
complete -c ipvsadm-restore -e
complete -c ipvsadm-restore -f
