#!/bin/sh
echo "demo $MODE in $(pwd) as $(id -u), args: [$*]"
cat /app/data/message.txt
