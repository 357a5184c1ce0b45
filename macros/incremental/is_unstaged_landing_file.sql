{#
    True for a record of a landing file that the staging table being built
    does not hold yet: incremental staging parses each landing file once. The
    list of staged files is read when the model is compiled, so the engine
    sees literal paths and skips the staged files without opening them.
#}
{% macro is_unstaged_landing_file(landing_file_path) %}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set staged_files = run_query('select distinct landing_file_path from ' ~ this).columns[0].values() -%}
    {%- if staged_files | length == 0 -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set quoted_files = [] -%}
    {%- for path in staged_files | sort -%}
        {%- do quoted_files.append("'" ~ (path | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{- return(landing_file_path ~ ' not in (' ~ quoted_files | join(', ') ~ ')') -}}
{% endmacro %}
