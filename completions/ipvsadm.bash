# bash completion for ipvsadm, ipvsadm-save and ipvsadm-restore (ipvs-tools)
#
# Install as /usr/share/bash-completion/completions/ipvsadm (with
# ipvsadm-save and ipvsadm-restore as links to it), or source it. It needs
# nothing from the bash-completion package.
#
# After a command, only the options that command accepts are offered, as
# ipvsadm's command/option matrix says; options already given are not
# offered again. Service and real-server addresses come from the live
# table (ipvsadm -Sn, at most one second, silently nothing on failure).

# The command/option matrix. Each row lists the options the command
# accepts, by ipvsadm's option names: "+" marks a required option, "1" the
# options of which at most one may be given. Options not listed are
# illegal. completions/completions_test.go checks these rows against
# ipvsadmargs, and the zsh and fish scripts carry the same rows.
declare -gA _ipvsadm_matrix=(
	# matrix:begin
	[add-service]='+service-address scheduler persistent netmask ops pe sched-flags'
	[edit-service]='+service-address scheduler persistent netmask ops pe sched-flags'
	[delete-service]='+service-address'
	[flush]=''
	[list]='numeric 1connection 1service-address 1timeout 1daemon stats rate thresholds persistent-conn nosort syncid exact tun-info'
	[add-server]='+service-address +real-server forwarding-method weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum'
	[delete-server]='+service-address +real-server'
	[edit-server]='+service-address +real-server forwarding-method weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum'
	[set]=''
	[start-daemon]='mcast-interface syncid mcast-group mcast-port mcast-ttl sync-maxlen'
	[stop-daemon]='syncid'
	[restore]=''
	[save]='numeric'
	[zero]='service-address'
	# matrix:end
)

# How each command is typed.
declare -gA _ipvsadm_commands=(
	# commands:begin
	[add-service]='-A --add-service'
	[edit-service]='-E --edit-service'
	[delete-service]='-D --delete-service'
	[flush]='-C --clear'
	[list]='-L -l --list'
	[add-server]='-a --add-server'
	[delete-server]='-d --delete-server'
	[edit-server]='-e --edit-server'
	[set]='--set'
	[start-daemon]='--start-daemon:'
	[stop-daemon]='--stop-daemon:'
	[restore]='-R --restore'
	[save]='-S --save'
	[zero]='-Z --zero'
	[help]='-h --help'
	[version]='-v --version'
	# commands:end
)

# How each option is typed: a trailing ":" marks an option that takes a
# value, "::" one whose value is optional (as in getopt). ipv6 (-6, only
# after -f) and sort (a no-op) are not matrix columns.
declare -gA _ipvsadm_options=(
	# options:begin
	[numeric]='-n --numeric'
	[connection]='-c --connection'
	[service-address]='-t: --tcp-service: -u: --udp-service: --sctp-service: -f: --fwmark-service:'
	[scheduler]='-s: --scheduler:'
	[persistent]='-p:: --persistent::'
	[netmask]='-M: --netmask:'
	[real-server]='-r: --real-server:'
	[forwarding-method]='-g --gatewaying -i --ipip -m --masquerading'
	[weight]='-w: --weight:'
	[u-threshold]='-x: --u-threshold:'
	[l-threshold]='-y: --l-threshold:'
	[mcast-interface]='--mcast-interface:'
	[timeout]='--timeout'
	[daemon]='--daemon'
	[stats]='--stats'
	[rate]='--rate'
	[thresholds]='--thresholds'
	[persistent-conn]='--persistent-conn'
	[nosort]='--nosort'
	[syncid]='--syncid:'
	[exact]='-X --exact'
	[ops]='-o --ops'
	[pe]='--pe:'
	[sched-flags]='-b: --sched-flags:'
	[mcast-group]='--mcast-group:'
	[mcast-port]='--mcast-port:'
	[mcast-ttl]='--mcast-ttl:'
	[sync-maxlen]='--sync-maxlen:'
	[tun-info]='--tun-info'
	[tun-type]='--tun-type:'
	[tun-port]='--tun-port:'
	[tun-nocsum]='--tun-nocsum'
	[tun-csum]='--tun-csum'
	[tun-remcsum]='--tun-remcsum'
	[ipv6]='-6 --ipv6'
	[sort]='--sort'
	# options:end
)

_ipvsadm_schedulers='rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh'
_ipvsadm_tun_types='ipip gue gre'
_ipvsadm_sched_flags='flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port'

# _ipvsadm_lookup TABLE WORD: the key of TABLE (_ipvsadm_options or
# _ipvsadm_commands) with a spelling WORD, in REPLY, and in ARG how the
# spelling takes a value ("", ":" or "::"). Fails if there is none.
_ipvsadm_lookup() {
	local -n _tab=$1
	local key spelling
	local -a list
	for key in "${!_tab[@]}"; do
		read -ra list <<<"${_tab[$key]-}"
		for spelling in "${list[@]}"; do
			if [[ ${spelling%%:*} == "$2" ]]; then
				REPLY=$key
				ARG=${spelling#"$2"}
				return 0
			fi
		done
	done
	return 1
}

# _ipvsadm_spellings TABLE KEY: the spellings of KEY, without markers, in
# the array SPELLINGS.
_ipvsadm_spellings() {
	local -n _tab=$1
	local s
	local -a list
	read -ra list <<<"${_tab[$2]-}"
	SPELLINGS=()
	for s in "${list[@]}"; do
		SPELLINGS+=("${s%%:*}")
	done
}

# _ipvsadm_live: the live table as "ipvsadm -Sn" prints it (the program
# being completed, at most one second, nothing on any failure), cached
# for one completion.
_ipvsadm_live() {
	if [[ -z $_ipvsadm_live_done ]]; then
		_ipvsadm_live_done=1
		_ipvsadm_live_out=$(timeout 1 "$prog" -Sn 2>/dev/null </dev/null) || _ipvsadm_live_out=
	fi
	printf '%s\n' "$_ipvsadm_live_out"
}

# _ipvsadm_scan: reads words[2..cword-1] into the option names given
# (array "given": name -> spellings used) and the values given (array
# "values": name -> value). Sets "pending" to the option whose value the
# current word is, if any.
_ipvsadm_scan() {
	local i w rest c name
	pending=
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $pending ]]; then
			values[$pending]=$w
			pending=
			continue
		fi
		if ((i == 1)); then
			# The command; a short one may carry a bundle ("-Ln").
			[[ $w == -[!-]?* ]] || continue
			rest=${w:2}
		elif [[ $w == --?* ]]; then
			_ipvsadm_lookup _ipvsadm_options "${w%%=*}" || continue
			name=$REPLY
			given[$name]+="${w%%=*} "
			if [[ $w == *=* ]]; then
				values[$name]=${w#*=}
			elif [[ $ARG == : ]]; then
				pending=$name
			elif [[ $ARG == :: ]] && ((i + 1 < cword)) && [[ ${words[i+1]} != -* ]]; then
				pending=$name
			fi
			continue
		elif [[ $w == -?* ]]; then
			rest=${w:1}
		else
			continue
		fi
		# A bundle of short options: the first one that takes a value
		# takes the rest of the word, or the next word.
		while [[ -n $rest ]]; do
			c=${rest:0:1}
			rest=${rest:1}
			_ipvsadm_lookup _ipvsadm_options "-$c" || break
			name=$REPLY
			given[$name]+="-$c "
			if [[ $ARG == :* ]]; then
				rest=${rest#=}
				if [[ -n $rest ]]; then
					values[$name]=$rest
				elif [[ $ARG == : ]]; then
					pending=$name
				elif ((i + 1 < cword)) && [[ ${words[i+1]} != -* ]]; then
					pending=$name
				fi
				break
			fi
		done
	done
}

# _ipvsadm_allowed CMD NAME: whether option NAME may still be added,
# given the options already on the line: the matrix, then the checks
# ipvsadm makes after it.
_ipvsadm_allowed() {
	local cmd=$1 name=$2 entry mark excl=
	local -a row
	read -ra row <<<"${_ipvsadm_matrix[$cmd]-}"
	[[ -z ${given[$name]-} ]] || return 1
	for entry in "${row[@]}"; do
		[[ $entry == 1* && -n ${given[${entry#1}]-} ]] && excl=1
	done
	for entry in "${row[@]}"; do
		[[ ${entry#[+1]} == "$name" ]] || continue
		mark=${entry:0:1}
		[[ $mark == 1 && -n $excl ]] && return 1
		break
	done
	[[ ${entry#[+1]} == "$name" ]] || return 1
	local tt=${values[tun-type]-}
	case $name in
	stats | rate | thresholds)
		[[ -z ${given[connection]-}${given[timeout]-}${given[daemon]-} ]] ;;
	persistent-conn)
		[[ -z ${given[timeout]-}${given[daemon]-} ]] ;;
	connection)
		[[ -z ${given[stats]-}${given[rate]-}${given[thresholds]-} ]] ;;
	timeout | daemon)
		[[ -z ${given[stats]-}${given[rate]-}${given[thresholds]-}${given[persistent-conn]-} ]] ;;
	tun-*)
		# Only with -i, and as the tunnel type allows.
		[[ -z ${given[forwarding-method]-} || ${given[forwarding-method]-} == *-i* ]] || return 1
		case $name in
		tun-port) [[ -z $tt || $tt == gue ]] ;;
		tun-nocsum | tun-csum | tun-remcsum)
			[[ $tt != ipip && -z ${given[tun-nocsum]-}${given[tun-csum]-}${given[tun-remcsum]-} ]] &&
				[[ $name != tun-remcsum || $tt != gre ]] ;;
		esac
		;;
	esac
}

# _ipvsadm_values CMD NAME CUR: the values to offer for option NAME.
_ipvsadm_values() {
	local cmd=$1 name=$2 cur=$3 f head= sched=${values[scheduler]-} c p a r s rest
	case $name in
	scheduler) read -ra cands <<<"$_ipvsadm_schedulers" ;;
	tun-type) read -ra cands <<<"$_ipvsadm_tun_types" ;;
	pe) cands=(sip) ;;
	sched-flags)
		[[ $cur == *,* ]] && head=${cur%,*},
		for f in $_ipvsadm_sched_flags; do
			case $f in
			sh-*) [[ -z $sched || $sched == sh ]] || continue ;;
			mh-*) [[ -z $sched || $sched == mh ]] || continue ;;
			esac
			[[ ,$head == *,$f,* ]] && continue
			cands+=("$head$f")
		done
		;;
	mcast-interface)
		for f in /sys/class/net/*; do
			[[ -e $f ]] && cands+=("${f##*/}")
		done
		;;
	service-address)
		# Services of the live table for the kind of option typed;
		# -A makes a new service, so nothing there.
		[[ $cmd == add-service ]] && return
		case $opt in
		-t | --tcp-service) f=-t ;;
		-u | --udp-service) f=-u ;;
		--sctp-service) f=--sctp-service ;;
		-f | --fwmark-service) f=-f ;;
		esac
		while read -r c p a rest; do
			[[ $c == -A && $p == "$f" ]] && cands+=("$a")
		done < <(_ipvsadm_live)
		;;
	real-server)
		# The servers of the service on the line, for -e and -d.
		[[ $cmd == edit-server || $cmd == delete-server ]] || return
		while read -r c p a r s rest; do
			[[ $c == -a && $r == -r ]] || continue
			[[ -z ${values[service-address]-} || $a == "${values[service-address]-}" ]] && cands+=("$s")
		done < <(_ipvsadm_live)
		;;
	esac
}

_ipvsadm() {
	local IFS=$' \t\n'
	local -a words=() cands=() SPELLINGS=()
	local -A given=() values=()
	local cword=0 i w cur prog cmd pending opt REPLY ARG
	local _ipvsadm_live_done= _ipvsadm_live_out=
	COMPREPLY=()
	# bash splits words at ':' and '='; glue them back so that
	# "10.0.0.1:80" and "--scheduler=rr" are one word each.
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if ((i > 0)) && [[ $w == [:=]* || ${words[${#words[@]}-1]} == *[:=] ]]; then
			words[${#words[@]}-1]+=$w
		else
			words+=("$w")
		fi
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	cur=${words[cword]}
	prog=${words[0]}

	if ((cword == 1)); then
		for w in "${!_ipvsadm_commands[@]}"; do
			_ipvsadm_spellings _ipvsadm_commands "$w"
			cands+=("${SPELLINGS[@]}")
		done
		_ipvsadm_reply "$cur"
		return 0
	fi
	w=${words[1]}
	[[ $w == --* ]] && w=${w%%=*}
	[[ $w == -[!-]* ]] && w=${w:0:2}
	_ipvsadm_lookup _ipvsadm_commands "$w" || return 0
	cmd=$REPLY
	case $cmd in
	help | version) return 0 ;;
	start-daemon | stop-daemon)
		if ((cword == 2)) && [[ ${words[1]} != *=* ]]; then
			cands=(master backup)
			_ipvsadm_reply "$cur"
			return 0
		fi
		;;
	esac

	_ipvsadm_scan
	if [[ -z $pending && $cur == --*=* ]]; then
		# --option=value
		_ipvsadm_lookup _ipvsadm_options "${cur%%=*}" || return 0
		pending=$REPLY
		opt=${cur%%=*}
		_ipvsadm_values "$cmd" "$pending" "${cur#*=}"
		_ipvsadm_reply "${cur#*=}"
		return 0
	fi
	if [[ -n $pending ]]; then
		opt=${given[$pending]% }
		opt=${opt##* }
		_ipvsadm_values "$cmd" "$pending" "$cur"
		_ipvsadm_reply "$cur"
		return 0
	fi
	# The optional timeout of -p: nothing to offer.
	if [[ $cur != -* && -n $cur ]]; then
		return 0
	fi
	local -a row
	read -ra row <<<"${_ipvsadm_matrix[$cmd]-}"
	for w in "${row[@]}"; do
		w=${w#[+1]}
		_ipvsadm_allowed "$cmd" "$w" || continue
		_ipvsadm_spellings _ipvsadm_options "$w"
		cands+=("${SPELLINGS[@]}")
	done
	# -6 follows -f.
	if [[ " ${given[service-address]-}" == *" -f "* || " ${given[service-address]-}" == *" --fwmark-service "* ]] &&
		[[ -z ${given[ipv6]-} ]]; then
		cands+=(-6 --ipv6)
	fi
	_ipvsadm_reply "$cur"
	return 0
}

# _ipvsadm_reply CUR: COMPREPLY gets the candidates that start with CUR,
# less the part of CUR up to its last ':' or '=', since bash replaces
# only what follows that.
_ipvsadm_reply() {
	local cur=$1 c trim=
	[[ $cur == *[:=]* ]] && trim=${cur%"${cur##*[:=]}"}
	for c in "${cands[@]}"; do
		[[ $c == "$cur"* ]] && COMPREPLY+=("${c#"$trim"}")
	done
	return 0
}

# ipvsadm-save takes -n; ipvsadm-restore takes nothing.
_ipvsadm_save() {
	local cur=${COMP_WORDS[COMP_CWORD]} w n=-n
	COMPREPLY=()
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		[[ $w == -n ]] && return 0
	done
	[[ $n == "$cur"* ]] && COMPREPLY=(-n)
	return 0
}

_ipvsadm_restore() {
	COMPREPLY=()
	return 0
}

complete -F _ipvsadm ipvsadm
complete -F _ipvsadm_save ipvsadm-save
complete -F _ipvsadm_restore ipvsadm-restore
