# bench/results.png from the rows of bench.sh:
#   gnuplot -e "datafile='...'; cpufile='...'; outfile='...'; secs='N'" plot.gp
# datafile: name, A->B Gbit/s, colour (0xRRGGBB); cpufile: name, daemon CPU
# s/GB, colour (only the rows with daemons). Tab-separated.
set terminal pngcairo size 1200,900 font ",10" noenhanced
set output outfile
set datafile separator "\t"
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -30 left nomirror
set key off
set bmargin 10
set rmargin 14
set offsets 0.5, 0.5, 0, 0
set yrange [0:*]

set multiplot layout 2,1 title sprintf("sluice make bench: TCP between two namespaces, %s s per run (blue: sluice, light blue: bare forwarder, grey: veth, orange: others)", secs)
set title "one TCP stream A->B (iperf3), Gbit/s: higher is better"
set ylabel "Gbit/s"
plot datafile using 0:2:3:xtic(1) with boxes lc rgb variable, \
     '' using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.7

set title "CPU of both daemons per GB moved (A->B run), s/GB: lower is better"
set ylabel "s/GB"
plot cpufile using 0:2:3:xtic(1) with boxes lc rgb variable, \
     '' using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.7
unset multiplot
