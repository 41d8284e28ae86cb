# officine-cyber - collecteur Windows (PowerShell 5.1 et plus, aucun module a installer).
# Il LIT la configuration du poste et ecrit un instantane a analyser avec :
#   officine audit --from <fichier>
# Il ne modifie rien. Sans droits administrateur, il fonctionne ; quelques points (BitLocker,
# strategie de mots de passe) restent alors "non verifiables" et le bilan le dit.
# Utilisation : powershell -ExecutionPolicy Bypass -File collect.ps1 [-Out poste.json]
param([string]$Out = "$env:COMPUTERNAME-officine.json")
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

# The observation manifest, embedded by `officine collector windows` (do not edit by hand).
$ManifestJson = @'
__MANIFEST__
'@
$Manifest = $ManifestJson | ConvertFrom-Json

function New-Observation($Kind, $Target, $Status, $Output, $Detail, $Started) {
    $obs = [ordered]@{ kind = $Kind; target = $Target; status = $Status }
    if ($null -ne $Output) { $obs.output = $Output }
    if ($Detail) { $obs.detail = [string]$Detail }
    $obs.duration_ms = [math]::Round(((Get-Date) - $Started).TotalMilliseconds, 1)
    return $obs
}

function Convert-RegistryPath($Key) {
    return $Key -replace '^HKLM\\', 'HKLM:\' -replace '^HKCU\\', 'HKCU:\'
}

function Observe-Registry($Item) {
    $start = Get-Date
    $path = Convert-RegistryPath $Item.key
    if (-not (Test-Path -LiteralPath $path)) { return New-Observation 'registry' $Item.key 'missing' $null 'cle absente' $start }
    try {
        $props = Get-ItemProperty -LiteralPath $path
        $values = [ordered]@{}
        foreach ($name in $Item.values) {
            if ($props.PSObject.Properties.Name -contains $name) { $values[$name] = $props.$name }
        }
        return New-Observation 'registry' $Item.key 'ok' ($values | ConvertTo-Json -Compress -Depth 4) $null $start
    } catch [System.Security.SecurityException] {
        return New-Observation 'registry' $Item.key 'denied' $null $_.Exception.Message $start
    } catch { return New-Observation 'registry' $Item.key 'error' $null $_.Exception.Message $start }
}

function Observe-RegistryKeys($Item) {
    $start = Get-Date
    $path = Convert-RegistryPath $Item.key
    if (-not (Test-Path -LiteralPath $path)) { return New-Observation 'registry_keys' $Item.key 'missing' $null 'cle absente' $start }
    try {
        $rows = @(Get-ChildItem -LiteralPath $path -Recurse -Depth ($Item.depth - 1) -ErrorAction Stop | ForEach-Object {
            $row = [ordered]@{ key = ($_.Name -replace '^HKEY_LOCAL_MACHINE', 'HKLM' -replace '^HKEY_CURRENT_USER', 'HKCU') }
            if ($Item.value) { $row.value = $_.GetValue($Item.value) }
            $row
        })
        return New-Observation 'registry_keys' $Item.key 'ok' (ConvertTo-Json -InputObject $rows -Compress -Depth 4) $null $start
    } catch { return New-Observation 'registry_keys' $Item.key 'error' $null $_.Exception.Message $start }
}

function Observe-Cim($Item) {
    $start = Get-Date
    $target = "$($Item.namespace):$($Item.class)"
    try {
        $rows = @(Get-CimInstance -Namespace $Item.namespace -ClassName $Item.class -ErrorAction Stop |
                  Select-Object -Property $Item.properties)
        return New-Observation 'cim' $target 'ok' (ConvertTo-Json -InputObject $rows -Compress -Depth 4) $null $start
    } catch [Microsoft.Management.Infrastructure.CimException] {
        # e.g. root/SecurityCenter2 does not exist on Windows Server: say so, never guess.
        return New-Observation 'cim' $target 'missing' $null $_.Exception.Message $start
    } catch { return New-Observation 'cim' $target 'error' $null $_.Exception.Message $start }
}

function Observe-Command($Item) {
    $start = Get-Date
    $exe = $Item.argv[0]
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { return New-Observation 'command' $Item.argv 'missing' $null "$exe absent" $start }
    $text = (& $exe @($Item.argv | Select-Object -Skip 1) 2>&1 | Out-String)
    $obs = New-Observation 'command' $Item.argv 'ok' $text $null $start
    $obs.exit_code = $LASTEXITCODE
    return $obs
}

function Observe-PowerShell($Item) {
    $start = Get-Date
    try {
        $result = Invoke-Expression $Item.script
        return New-Observation 'powershell' $Item.id 'ok' (ConvertTo-Json -InputObject @($result) -Compress -Depth 4) $null $start
    } catch [System.UnauthorizedAccessException] {
        return New-Observation 'powershell' $Item.id 'denied' $null $_.Exception.Message $start
    } catch {
        # Classified by facts, never by the (translated) message: an administrator-only item that
        # fails in a run without administrator rights is that refusal.
        $needsAdmin = ($Item.PSObject.Properties.Name -contains 'admin') -and $Item.admin
        $status = if ($needsAdmin -and -not $IsAdmin) { 'denied' } else { 'error' }
        return New-Observation 'powershell' $Item.id $status $null $_.Exception.Message $start
    }
}

$handlers = @{ registry = 'Observe-Registry'; registry_keys = 'Observe-RegistryKeys'; cim = 'Observe-Cim';
               command = 'Observe-Command'; powershell = 'Observe-PowerShell' }
$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$IsAdmin = (New-Object Security.Principal.WindowsPrincipal $identity).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$started = Get-Date
$observations = @()
foreach ($item in $Manifest.observations) {
    Write-Host ("Observation : " + $item.id)
    $observations += (& $handlers[$item.kind] $item)
}
$machineGuid = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography' -ErrorAction SilentlyContinue).MachineGuid
$sha = [Security.Cryptography.SHA256]::Create()
$hostId = if ($machineGuid) { -join ($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($machineGuid)) | ForEach-Object { $_.ToString('x2') }) } else { $null }
$body = [ordered]@{
    format = 'officine-cyber/snapshot'; schema_version = 1; snapshot_id = [guid]::NewGuid().ToString()
    tool_version = '__VERSION__'; platform = 'windows'; mode = 'live'
    collected_at = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss') + '+00:00'
    host = [ordered]@{ hostname = $env:COMPUTERNAME; machine_id_sha256 = $hostId }
    collector = [ordered]@{ user = $identity.Name; privileged = $IsAdmin; powershell = $PSVersionTable.PSVersion.ToString()
                            duration_ms = [math]::Round(((Get-Date) - $started).TotalMilliseconds) }
    observations = $observations; facts = @{}
}
# Sealed envelope: the snapshot's exact bytes, base64, with their SHA-256.
$bytes = [Text.Encoding]::UTF8.GetBytes(($body | ConvertTo-Json -Compress -Depth 8))
$digest = -join ($sha.ComputeHash($bytes) | ForEach-Object { $_.ToString('x2') })
$envelope = [ordered]@{ format = 'officine-cyber/snapshot-envelope'; sha256 = $digest; payload = [Convert]::ToBase64String($bytes) }
[IO.File]::WriteAllText((Join-Path (Get-Location) $Out), ($envelope | ConvertTo-Json -Compress), (New-Object Text.UTF8Encoding $false))
Write-Host "Instantane ecrit : $Out. Rapportez ce fichier et analysez-le avec : officine audit --from $Out"
