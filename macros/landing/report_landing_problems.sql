{#
    Runs on-run-end: dbt says only how many rows a failing test returned, so
    for the landing tests that warned or failed this prints what they found,
    one line each, in a stable order: each file with malformed lines and how
    many, each file not read as data, each delivery not staged, each zone
    without records. At most `limit` lines per test, then how many more.
#}
{% macro report_landing_problems(results, limit=20) %}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set messages = {
        'landing_lines_are_well_formed': 'malformed lines skipped (rule R0) in {landing_file}: {malformed_lines}',
        'landing_files_are_data_files': 'not read as data (only *.json and *.json.gz are): {landing_file}',
        'landing_files_are_staged': 'not staged: {landing_file} (modified before this build started; the next build stages it)',
        'landing_zones_have_records': 'landing zone {zone} has no records under {location}',
    } -%}
    {%- for result in results
        if result.node.resource_type == 'test'
        and result.status in ['warn', 'fail']
        and result.node.test_metadata is not none
        and result.node.test_metadata.name in messages -%}
        {%- set template = messages[result.node.test_metadata.name] -%}
        {%- set found = run_query('select * from (' ~ result.node.compiled_code ~ ') as found order by 1') -%}
        {%- for row in found.rows[:limit] -%}
            {%- set values = {} -%}
            {%- for column in found.column_names -%}
                {%- do values.update({column: row[column]}) -%}
            {%- endfor -%}
            {%- do print(result.status | upper ~ ' ' ~ template.format(**values)) -%}
        {%- endfor -%}
        {%- if found.rows | length > limit -%}
            {%- do print(result.status | upper ~ ' ... and ' ~ (found.rows | length - limit) ~ ' more') -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return('') -}}
{% endmacro %}
