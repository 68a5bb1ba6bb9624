"""A national day solved by regions: split before any matrix exists, solve each region
where an engine puts it, merge, verify the whole day as one plan.

``split`` cuts the day (a ``region`` column, or clusters of agents' bases), ``engine``
runs the regions one after another here, ``ray_engine`` one Ray task each (the only
module that imports Ray, and only when asked for), ``merge`` joins the region plans and
``flow`` orders the steps. Only a region's matrices ever exist, never the national one:
20,000 visits would need a 7 GiB matrix, 100,000 one of 73 GiB.
"""
