function Invoke-D365ExoSyncWebApi {
    <#
    .SYNOPSIS
    The "windows" transport of the D365 Web API client: runs a batch of HTTP requests with Windows integrated
    authentication as the runner's own identity (-UseDefaultCredentials, no secret) and returns status, headers and
    body of each. One PowerShell process serves the whole batch.

    .PARAMETER Requests
    @( @{ id = '1'; method = 'GET'; url = 'https://crm.contoso.com/contoso/api/data/v9.0/WhoAmI'; headers = @{ Accept = 'application/json' }; body = $null } )

    .DESCRIPTION
    HTTP error statuses are results, not failures (status and body come back); a request that gets no response at all
    (DNS, connection, TLS, timeout) comes back with status 0 and error. With -WhatIf only GET and HEAD requests are
    sent; the others come back with skipped = true.
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Low')]
    param(
        [Parameter(Mandatory = $true)] [object[]] $Requests,
        [ValidateRange(1, 3600)] [int] $TimeoutSec = 120
    )
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    $plan = [bool]$WhatIfPreference
    $state = New-D365PhaseState -Phase 'webapi' -Plan $plan
    $stepId = 'requests'
    try {
        if ($PSVersionTable.PSEdition -ne 'Core') {
            # Windows PowerShell 5.1 on older servers may not offer TLS 1.2 by default.
            [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
        }
        $responses = New-Object System.Collections.ArrayList
        $index = 0
        foreach ($entry in $Requests) {
            $index++
            $request = ConvertTo-D365Hashtable $entry
            $id = [string](Get-D365Option $request 'id' ([string]$index))
            $stepId = "request $id"
            $method = ([string](Get-D365Option $request 'method' 'GET')).ToUpperInvariant()
            $url = [string](Get-D365Option $request 'url' '')
            if ($url -notmatch '^https?://') { Stop-D365Step "request $id has no absolute http(s) url" }
            if ($plan -and $method -ne 'GET' -and $method -ne 'HEAD') {
                [void]$responses.Add([ordered]@{ id = $id; method = $method; url = $url; status = 0; skipped = $true; headers = @{}; body = $null })
                continue
            }
            [void]$responses.Add((Invoke-D365HttpRequest -Id $id -Method $method -Url $url -Headers (Get-D365Option $request 'headers' @{}) -Body (Get-D365Option $request 'body' $null) -TimeoutSec $TimeoutSec))
        }
        $state.evidence['responses'] = $responses.ToArray()
        $summary = @($responses | ForEach-Object { '{0} {1}' -f $_.id, $_.status }) -join ', '
        [void](Add-D365Step -State $state -Id 'requests' -Title ("{0} HTTP request(s)" -f $responses.Count) -Status 'unchanged' -Message $summary)
    } catch {
        Stop-D365Phase -State $state -Step $stepId -ErrorRecord $_
    }
    return $state
}

function Invoke-D365HttpRequest {
    param([string] $Id, [string] $Method, [string] $Url, $Headers, $Body, [int] $TimeoutSec)
    $send = @{}
    $contentType = $null
    if ($null -ne $Headers) {
        foreach ($name in @($Headers.Keys)) {
            if ($name -eq 'Content-Type') { $contentType = [string]$Headers[$name] } else { $send[$name] = [string]$Headers[$name] }
        }
    }
    $arguments = @{
        Uri                   = $Url
        Method                = $Method
        Headers               = $send
        UseDefaultCredentials = $true
        UseBasicParsing       = $true
        TimeoutSec            = $TimeoutSec
    }
    if ($null -ne $Body) {
        $text = $Body
        if (-not ($Body -is [string])) { $text = ConvertTo-Json -InputObject $Body -Depth 20 -Compress }
        $arguments['Body'] = [System.Text.Encoding]::UTF8.GetBytes([string]$text)
        if (-not $contentType) { $contentType = 'application/json; charset=utf-8' }
    }
    if ($contentType) { $arguments['ContentType'] = $contentType }
    $started = [System.Diagnostics.Stopwatch]::StartNew()
    $result = [ordered]@{ id = $Id; method = $Method; url = $Url; status = 0; headers = [ordered]@{}; body = $null; durationMs = 0 }
    try {
        $response = Invoke-WebRequest @arguments
        $result.status = [int]$response.StatusCode
        $result.headers = ConvertFrom-D365HeaderTable $response.Headers
        $result.body = ConvertFrom-D365ResponseBytes $response
    } catch {
        $failed = $_
        $webResponse = $null
        if ($failed.Exception.PSObject.Properties['Response']) { $webResponse = $failed.Exception.Response }
        if ($null -eq $webResponse) {
            $result.error = $failed.Exception.Message
        } else {
            $result.status = [int]$webResponse.StatusCode
            if ($webResponse -is [System.Net.HttpWebResponse]) {
                # Windows PowerShell 5.1: WebException with an HttpWebResponse.
                $table = [ordered]@{}
                foreach ($key in $webResponse.Headers.AllKeys) { $table[$key] = $webResponse.Headers[$key] }
                $result.headers = $table
                if ($failed.ErrorDetails -and $failed.ErrorDetails.Message) {
                    $result.body = $failed.ErrorDetails.Message
                } else {
                    $stream = $webResponse.GetResponseStream()
                    if ($stream.CanSeek) { $stream.Position = 0 }
                    $reader = New-Object System.IO.StreamReader -ArgumentList @($stream, [System.Text.Encoding]::UTF8)
                    try { $result.body = $reader.ReadToEnd() } finally { $reader.Dispose() }
                }
            } else {
                # PowerShell 7: HttpResponseException with an HttpResponseMessage; the body is in ErrorDetails.
                $table = [ordered]@{}
                foreach ($header in $webResponse.Headers) { $table[$header.Key] = (@($header.Value) -join ', ') }
                if ($webResponse.Content) { foreach ($header in $webResponse.Content.Headers) { $table[$header.Key] = (@($header.Value) -join ', ') } }
                $result.headers = $table
                if ($failed.ErrorDetails) { $result.body = $failed.ErrorDetails.Message }
            }
        }
    }
    $result.durationMs = [int]$started.ElapsedMilliseconds
    return $result
}

function ConvertFrom-D365HeaderTable {
    param($Headers)
    $table = [ordered]@{}
    if ($null -eq $Headers) { return $table }
    foreach ($key in @($Headers.Keys)) {
        $value = $Headers[$key]
        if ($value -is [string]) { $table[[string]$key] = $value } else { $table[[string]$key] = (@($value) -join ', ') }
    }
    return $table
}

# The body as UTF-8 text from the raw bytes (Windows PowerShell would otherwise guess the encoding).
function ConvertFrom-D365ResponseBytes {
    param($Response)
    if ($Response.RawContentStream) {
        $bytes = $Response.RawContentStream.ToArray()
        if ($bytes.Length -eq 0) { return '' }
        return [System.Text.Encoding]::UTF8.GetString($bytes)
    }
    return [string]$Response.Content
}
