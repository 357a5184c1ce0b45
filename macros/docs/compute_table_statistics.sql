{#
    `dbt run-operation compute_table_statistics`, run by `make docs` before
    `dbt docs generate`: the docs site shows each table's row count from the
    catalog, and Spark records only a table's size when it writes it, so every
    table would read "0 rows". Computes the statistics of every table and seed
    of this project that exists in the warehouse.
#}
{% macro compute_table_statistics() %}
    {{- return(adapter.dispatch('compute_table_statistics', 'stedi_lakehouse')()) -}}
{% endmacro %}

{% macro default__compute_table_statistics() %}
    {%- do log("compute_table_statistics: nothing to compute on " ~ target.type, info=true) -%}
{% endmacro %}

{% macro spark__compute_table_statistics() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- for node in graph.nodes.values()
        if node.package_name == project_name
        and node.resource_type in ['model', 'seed']
        and node.config.materialized in ['table', 'incremental', 'seed'] -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is not none -%}
            {%- do run_query('analyze table ' ~ relation ~ ' compute statistics') -%}
            {%- do log('compute_table_statistics: ' ~ relation, info=true) -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
