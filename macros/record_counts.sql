{#
    `dbt run-operation record_counts` (`make record-counts`): the row count of
    every landing, staging, trusted and curated table, with the malformed lines
    of each landing and staging table, then each landing file with malformed
    lines. The seed system's "record counts per zone" check. The landing tables
    are first pointed at STEDI_LANDING_PATH, so the landing counts are those of
    the folder given now, not of the last build's. Rows print in a fixed order.
#}
{% macro record_counts() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- do create_landing_tables() -%}

    {%- set count_queries = [] -%}
    {%- set landing_tables = [] -%}
    {%- for landing_source in graph.sources.values()
        if landing_source.source_name == 'landing' and landing_source.external.file_format != 'binaryFile' -%}
        {%- do landing_tables.append(landing_source.name) -%}
        {%- do count_queries.append(
            "select 1 as zone_order, 'landing' as zone, '" ~ landing_source.name ~ "' as table_name, count(*) as row_count, "
            ~ "sum(case when " ~ landing_record_is_malformed(landing_source.name) ~ " then 1 else 0 end) as malformed_lines "
            ~ "from " ~ source('landing', landing_source.name)
        ) -%}
    {%- endfor -%}
    {%- set not_built = [] -%}
    {%- for zone_order, zone in [(2, 'staging'), (3, 'trusted'), (4, 'curated')] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model'
            and node.config.meta.get('zone') == zone
            and node.config.materialized != 'ephemeral' -%}
            {%- set relation = ref(node.name) -%}
            {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
                {%- do not_built.append(node.name) -%}
            {%- else -%}
                {%- set malformed = 'sum(case when is_malformed then 1 else 0 end)' if 'is_malformed' in node.columns else 'cast(null as bigint)' -%}
                {%- do count_queries.append(
                    "select " ~ zone_order ~ " as zone_order, '" ~ zone ~ "' as zone, '" ~ node.name ~ "' as table_name, "
                    ~ "count(*) as row_count, " ~ malformed ~ " as malformed_lines from " ~ relation
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set counts = run_query('select * from (' ~ count_queries | join('\nunion all\n') ~ ') as counts order by zone_order, table_name') -%}
    {%- do print('zone     table                                    rows  malformed lines') -%}
    {%- for row in counts.rows -%}
        {%- set malformed = '' if row['malformed_lines'] is none else row['malformed_lines'] | string -%}
        {%- do print(
            row['zone'].ljust(8) ~ ' ' ~ row['table_name'].ljust(36) ~ ' '
            ~ (row['row_count'] | string).rjust(9) ~ '  ' ~ malformed
        ) -%}
    {%- endfor -%}
    {%- for name in not_built | sort -%}
        {%- do print('not built yet: ' ~ name ~ ' (run make build)') -%}
    {%- endfor -%}

    {%- set file_queries = [] -%}
    {%- for landing_table in landing_tables -%}
        {%- do file_queries.append(
            "select " ~ landing_record_file() ~ " as landing_file from " ~ source('landing', landing_table)
            ~ " where " ~ landing_record_is_malformed(landing_table)
        ) -%}
    {%- endfor -%}
    {%- set files = run_query(
        'select landing_file, count(*) as malformed_lines from (' ~ file_queries | join('\nunion all\n')
        ~ ') as malformed group by landing_file order by landing_file'
    ) -%}
    {%- do print('malformed lines per landing file: ' ~ ('none' if files.rows | length == 0 else '')) -%}
    {%- for row in files.rows -%}
        {%- do print('  ' ~ row['landing_file'] ~ ': ' ~ row['malformed_lines']) -%}
    {%- endfor -%}
{% endmacro %}
