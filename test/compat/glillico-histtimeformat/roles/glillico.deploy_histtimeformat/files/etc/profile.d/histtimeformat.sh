# Set the HISTTIMEFORMAT environment variable.

export HISTTIMEFORMAT="%d/%m/%y %T "
