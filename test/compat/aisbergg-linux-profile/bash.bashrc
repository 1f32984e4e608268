# ours: the /etc/bash.bashrc the README's example copies
[ -z "$PS1" ] && return
PS1='\u@\h:\w\$ '
